export * from "./defaults";
export * from "./fields";
export * from "./gateway";
export * from "./load";
export * from "./platform";
export * from "./rate-limits";
export * from "./schema";
export * from "./service";
