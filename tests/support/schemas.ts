/** The upstream-schema validator lives with synth, which validates every object it writes; tests share it. */
export * from "../../cli/schemas";
