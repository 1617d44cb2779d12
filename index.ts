// Entry point of `pulumi up` / `pulumi preview`: the engine calls the exported function and
// publishes what it returns as stack outputs.
import { main } from "./stacks";

export = main;
