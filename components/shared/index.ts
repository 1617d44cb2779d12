export * from "./capacity";
export * from "./hash";
export * from "./labels";
export * from "./names";
export * from "./quantity";
