export * from "./capacity";
export * from "./hash";
export * from "./kube";
export * from "./labels";
export * from "./names";
export * from "./quantity";
export * from "./rate-limit-model";
export * from "./scheduling";
