/**
 * Runs the Pulumi program in-process under the SDK's mock runtime (`pulumi.runtime.setMocks`) and
 * records every resource it registers, as the engine would receive it: type, name, parent,
 * options and inputs (secrets and unknowns kept as markers). Synth, the benchmark and the tests
 * all run the program through here.
 *
 * Two modes, as the engine has them: `up`, where cloud-computed outputs get mock values, and
 * `preview`, where they stay unknown, as on the first `pulumi preview` of a new stack.
 */
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { setMockOptions } from "@pulumi/pulumi/runtime/settings";
import { specialResourceSig, specialSecretSig, specialSigKey, unknownValue } from "@pulumi/pulumi/runtime/rpc";

export type Mode = "up" | "preview";

/** Marker written wherever an input is a secret: no secret value ever leaves the mock runtime. */
export const SECRET_MARKER = "[secret]";
/** Marker for values only known after the cloud creates something (preview mode). */
export const UNKNOWN_MARKER = "[unknown]";
/** A secret whose value is not known yet (a preview of a new cluster's kubeconfig, for example). */
export const UNKNOWN_SECRET_MARKER = "[unknown secret]";

/** One registered resource, as the engine would see it. */
export interface RegisteredResource {
    urn: string;
    type: string;
    name: string;
    /** URN of the parent resource, if any. */
    parent?: string;
    /** `false` for component resources. */
    custom: boolean;
    /** Provider reference (`<provider urn>::<id>`), if explicit. */
    provider?: string;
    protect: boolean;
    ignoreChanges: string[];
    deleteBeforeReplace: boolean;
    dependencies: string[];
    /** Inputs with secrets as {@link SECRET_MARKER}, unknowns as {@link UNKNOWN_MARKER}, resource references as URNs. */
    inputs: Record<string, unknown>;
}

export interface RunResult {
    resources: RegisteredResource[];
    /** Stack outputs returned by the program (secrets and unknowns as markers). */
    outputs: Record<string, unknown>;
}

export interface RunOptions {
    project: string;
    stack: string;
    /** Flat config map as the engine passes it (`{"bff-platform:services": "<json>"}`). */
    configMap: Record<string, string>;
    secretKeys?: string[];
    mode?: Mode;
    /** Called for every registration as it happens (tests use it to see what a failing run registered). */
    onRegister?: (resource: RegisteredResource) => void;
}

/** Thrown when the run itself is broken: duplicate URNs, unhandled rejections, errors in mocks. */
export class MockRunError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "MockRunError";
    }
}

const MOCK_ACCOUNT = "123456789012";

/**
 * Rejections a run already turned into its MockRunError, so that a process-wide watcher (the
 * test setup) does not report them a second time.
 */
export const reportedRejections = new Set<unknown>();

/** Outputs the cloud would compute, for the resource types whose outputs the program reads. */
function computedOutputs(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
    const physicalName = typeof inputs.name === "string" ? inputs.name : name;
    switch (type) {
        case "aws:eks/cluster:Cluster":
            return {
                arn: `arn:aws:eks:ap-northeast-1:${MOCK_ACCOUNT}:cluster/${physicalName}`,
                endpoint: `https://${physicalName}.mock.eks.amazonaws.com`,
                vpcConfig: { ...(inputs.vpcConfig as object), clusterSecurityGroupId: "sg-0c1a2b3c4d5e6f708" },
                certificateAuthority: { data: Buffer.from(`mock-ca-of-${physicalName}`).toString("base64") },
                name: physicalName,
            };
        case "aws:iam/role:Role":
            return { arn: `arn:aws:iam::${MOCK_ACCOUNT}:role/${physicalName}`, name: physicalName };
        case "aws:kms/key:Key":
            return { arn: `arn:aws:kms:ap-northeast-1:${MOCK_ACCOUNT}:key/${name}`, keyId: name };
        case "aws:elasticache/replicationGroup:ReplicationGroup":
            return {
                arn: `arn:aws:elasticache:ap-northeast-1:${MOCK_ACCOUNT}:replicationgroup:${physicalName}`,
                primaryEndpointAddress: `master.${String(inputs.replicationGroupId ?? name)}.mock.cache.amazonaws.com`,
            };
        default:
            return type.startsWith("aws:") ? { arn: `arn:aws:mock:ap-northeast-1:${MOCK_ACCOUNT}:${type}/${physicalName}` } : {};
    }
}

/** Results of the provider functions (invokes) the program calls, beyond echoing the arguments. */
function invokeResults(token: string, inputs: Record<string, unknown>): Record<string, unknown> {
    if (token === "aws:ec2/getSubnet:getSubnet" && typeof inputs.id === "string") {
        // A stable /24 per subnet id, inside a 10.0.0.0/16 VPC.
        const third = parseInt(inputs.id.slice(-2), 16) % 256;
        return { cidrBlock: `10.0.${Number.isNaN(third) ? 0 : third}.0/24`, vpcId: "vpc-mock" };
    }
    return {};
}

/** Replaces the wire format's secret, unknown and resource-reference encodings with readable markers. */
export function cleanWireValue(value: unknown): unknown {
    if (value === unknownValue) {
        return UNKNOWN_MARKER;
    }
    if (Array.isArray(value)) {
        return value.map(cleanWireValue);
    }
    if (value !== null && typeof value === "object") {
        const record = value as Record<string, unknown>;
        if (record[specialSigKey] === specialSecretSig) {
            // Since @pulumi/pulumi 3.25x an unknown secret travels as a secret wrapping the unknown value.
            return record.value === unknownValue ? UNKNOWN_SECRET_MARKER : SECRET_MARKER;
        }
        if (record[specialSigKey] === specialResourceSig) {
            return record.urn;
        }
        return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, cleanWireValue(v)]));
    }
    return value;
}

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getProvider(): string;
    getProtect(): boolean;
    getIgnorechangesList(): string[];
    getDeletebeforereplace(): boolean;
    getDependenciesList(): string[];
    getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
}

/** The SDK's mock monitor, recording what it is asked to register and refusing duplicate URNs. */
class RecordingMonitor extends MockMonitor {
    readonly recorded = new Map<string, RegisteredResource>();
    readonly problems: string[] = [];

    constructor(
        mocks: pulumi.runtime.Mocks,
        private readonly onRegister?: (resource: RegisteredResource) => void,
    ) {
        super(mocks);
    }

    async registerResource(req: RegisterRequest, callback: (err: unknown, resp: unknown) => void): Promise<void> {
        // newUrn is private in the SDK's typings; it is the URN the mock monitor itself assigns.
        const urn = (this as unknown as { newUrn(parent: string, type: string, name: string): string }).newUrn(
            req.getParent(),
            req.getType(),
            req.getName(),
        );
        if (this.recorded.has(urn)) {
            this.problems.push(`duplicate URN ${urn}: two resources share a type, parent type and name`);
        } else {
            this.recorded.set(urn, {
                urn,
                type: req.getType(),
                name: req.getName(),
                parent: req.getParent() || undefined,
                custom: req.getCustom(),
                provider: req.getProvider() || undefined,
                protect: req.getProtect(),
                ignoreChanges: [...req.getIgnorechangesList()].sort(),
                deleteBeforeReplace: req.getDeletebeforereplace(),
                dependencies: [...new Set(req.getDependenciesList())].sort(),
                inputs: cleanWireValue(req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>,
            });
            this.onRegister?.(this.recorded.get(urn) as RegisteredResource);
        }
        return super.registerResource(req, callback);
    }
}

async function waitForRegistrations(): Promise<void> {
    // The SDK's own drain of outstanding RPCs (what `pulumi up` waits for before exiting).
    const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
    await settings.waitForRPCs();
}

async function resolveOutputs(value: unknown): Promise<unknown> {
    if (pulumi.Output.isInstance(value)) {
        const output = value as pulumi.Output<unknown>;
        // Internal fields of Output: the same ones `pulumi up` inspects to publish stack outputs.
        const internal = output as unknown as { isKnown: Promise<boolean>; isSecret: Promise<boolean>; promise(): Promise<unknown> };
        const [known, secret, resolved] = await Promise.all([internal.isKnown, internal.isSecret, internal.promise()]);
        return secret ? SECRET_MARKER : !known ? UNKNOWN_MARKER : resolveOutputs(resolved);
    }
    if (Array.isArray(value)) {
        return Promise.all(value.map(resolveOutputs));
    }
    if (value !== null && typeof value === "object") {
        const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await resolveOutputs(v)] as const));
        return Object.fromEntries(entries);
    }
    return value;
}

/**
 * Runs `program` under mocks with the given config and returns what it registered, sorted by URN.
 * Fails on duplicate URNs, on unhandled rejections (how errors in mocks and in `apply` surface)
 * and on errors the program throws (rethrown as they are, so a ConfigError stays a ConfigError).
 */
export async function runProgram(program: () => Promise<unknown>, options: RunOptions): Promise<RunResult> {
    const mode = options.mode ?? "up";
    const preview = mode === "preview";
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => {
        rejections.push(reason);
        reportedRejections.add(reason);
    };
    process.on("unhandledRejection", onRejection);

    const mocks: pulumi.runtime.Mocks = {
        newResource: (args) => ({
            id: preview ? undefined : `${args.name}-id`,
            state: preview ? { ...args.inputs } : { ...args.inputs, ...computedOutputs(args.type, args.name, args.inputs) },
        }),
        call: (args) => ({ ...args.inputs, ...invokeResults(args.token, args.inputs) }),
    };
    await pulumi.runtime.setMocks(mocks, options.project, options.stack, preview);
    // setMockOptions resets the engine feature flags that setMocks turned on (secrets, resource
    // references, ...): without them secrets would be serialized as plain values. Keep them.
    // getStore is part of the SDK runtime but missing from its type declarations.
    const state = require("@pulumi/pulumi/runtime/state") as { getStore(): Record<string, unknown> };
    const store = state.getStore();
    const features = Object.fromEntries(Object.entries(store).filter(([key]) => key.startsWith("supports")));
    const monitor = new RecordingMonitor(mocks, options.onRegister);
    setMockOptions(monitor, options.project, options.stack, preview);
    Object.assign(store, features);
    pulumi.runtime.setAllConfig(options.configMap, options.secretKeys ?? []);

    // The SDK captures a stack trace for every promise and resource it creates (leak and error
    // diagnostics). Under ts-node each capture is source-mapped frame by frame, which was half of
    // the time of a large synth and most of its memory. During the run, traces keep V8's own
    // formatting (positions in the transpiled code); BFF_SOURCE_MAPPED_STACKS=1 keeps the mapping.
    const errorClass = Error as { prepareStackTrace?: unknown };
    const sourceMappedStacks = errorClass.prepareStackTrace;
    if (process.env.BFF_SOURCE_MAPPED_STACKS !== "1") {
        errorClass.prepareStackTrace = undefined;
    }
    const restoreDebuggablePromise = withoutPromiseStackTraces();
    try {
        const returned = await program();
        await waitForRegistrations();
        const outputs = (await resolveOutputs(returned ?? {})) as Record<string, unknown>;
        await waitForRegistrations();
        // Let rejections raised in the last turn of the event loop be reported before we look.
        await new Promise((resolve) => setImmediate(resolve));
        const problems = [
            ...monitor.problems,
            ...rejections.map((r) => `unhandled rejection: ${r instanceof Error ? (r.stack ?? r.message) : String(r)}`),
        ];
        if (problems.length > 0) {
            throw new MockRunError(problems.join("\n"));
        }
        const resources = [...monitor.recorded.values()].sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
        return { resources, outputs };
    } finally {
        process.off("unhandledRejection", onRejection);
        errorClass.prepareStackTrace = sourceMappedStacks;
        restoreDebuggablePromise();
    }
}

interface DebuggableModule {
    debugPromiseLeaks: boolean;
    debuggablePromise<T>(promise: Promise<T>, context: unknown): Promise<T>;
}

/**
 * The SDK wraps every promise of a registration in `debuggablePromise`, which captures and formats
 * a stack trace for each (`new Error().stack`), printed only when the process exits with promises
 * still pending and `PULUMI_DEBUG_PROMISE_LEAKS` is set (@pulumi/pulumi runtime/debuggable.js).
 * Formatting those traces was a fifth of a production synth. During a run, unless that variable is
 * set, the wrapper captures no frames; the leak tracking itself (the promise set the SDK waits on)
 * is unchanged. The SDK's modules call `debuggable_1.debuggablePromise(...)` through the module
 * object, so replacing the export reaches every caller. Returns the function that restores it.
 */
function withoutPromiseStackTraces(): () => void {
    const debuggable = require("@pulumi/pulumi/runtime/debuggable") as DebuggableModule;
    const original = debuggable.debuggablePromise;
    if (debuggable.debugPromiseLeaks) {
        return () => undefined;
    }
    debuggable.debuggablePromise = function debuggablePromiseWithoutTrace<T>(promise: Promise<T>, context: unknown): Promise<T> {
        const limit = Error.stackTraceLimit;
        Error.stackTraceLimit = 0;
        try {
            return original(promise, context);
        } finally {
            Error.stackTraceLimit = limit;
        }
    };
    return () => {
        debuggable.debuggablePromise = original;
    };
}
