/**
 * Validates Kubernetes objects against the upstream schemas shipped by `kubernetes-models` (the
 * Kubernetes API) and `@kubernetes-models/{istio,argo-rollouts,argo-cd,cert-manager}` (the CRDs).
 *
 * Two checks per object:
 * - schema: the model class's own `validate()` (ajv code generated from the OpenAPI / CRD
 *   schemas): types, enums, required fields, formats.
 * - unknown fields: those generated validators never reject an unknown field (no schema in these
 *   packages sets `additionalProperties: false`, and only the compiled ajv code ships, not the JSON
 *   schemas), so a typo such as `spec.replica` would pass. We detect unknown fields by running the
 *   validator on a Proxy that records which property names it looks up: ajv's code for `properties`
 *   reads every declared property (`data.replicas !== undefined`), and for maps
 *   (`additionalProperties`/`patternProperties`) it enumerates the keys. So in an object whose
 *   properties the validator looked up, a key it never looked up is not in the schema. Objects whose
 *   keys were enumerated (maps) or never looked at (free-form objects such as
 *   `x-kubernetes-preserve-unknown-fields`) are not checked. Limits: this relies on the shape of
 *   ajv's generated code (checked against these versions: a typo is caught at every typed level of
 *   our Deployment, Service, ConfigMap, PodDisruptionBudget, HorizontalPodAutoscaler and Namespace,
 *   and in Istio, Argo and cert-manager objects); a property declared only inside an `anyOf` branch
 *   that is not evaluated would be reported as unknown; and where the generated model dropped a
 *   CRD's `x-kubernetes-preserve-unknown-fields`, the object is listed in PRESERVES_UNKNOWN_FIELDS.
 *
 * An object whose apiVersion and kind have no model is itself a problem, so a new kind cannot slip
 * through unvalidated.
 */
import { existsSync } from "fs";
import { dirname, join } from "path";

/**
 * These packages are ESM-only (`"type": "module"`, `import` condition only). ts-node compiles our
 * files to CommonJS, which turns `import()` into `require()` and fails with ERR_REQUIRE_ESM; a
 * Function body is not compiled, so its `import()` stays a real dynamic import.
 */
const importEsm = new Function("specifier", "return import(specifier)") as (s: string) => Promise<unknown>;

/** The packages whose models are looked up, each through its root index (every group and version). */
export const SCHEMA_PACKAGES = [
    "kubernetes-models",
    "@kubernetes-models/istio",
    "@kubernetes-models/argo-rollouts",
    "@kubernetes-models/argo-cd",
    "@kubernetes-models/cert-manager",
] as const;

/** A generated model class: `new Deployment(data).validate()` throws when data breaks the schema. */
export interface ModelClass {
    readonly apiVersion: string;
    readonly kind: string;
    new (data?: unknown): { validate(): void };
}

export interface KubeObjectLike {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string };
    [k: string]: unknown;
}

export interface ValidateOptions {
    /** Also report fields the schema does not declare (default true). */
    unknownFields?: boolean;
}

interface AjvError {
    instancePath: string;
    keyword: string;
    message?: string;
    params?: Record<string, unknown>;
}

/**
 * Objects (JSON pointers) where the upstream CRD keeps unknown fields
 * (`x-kubernetes-preserve-unknown-fields`) but the generated model lost that: the unknown-field
 * check skips their keys. IstioOperator's CRD is the whole object preserving unknown fields; its
 * model only declares apiVersion, kind and metadata.
 */
const PRESERVES_UNKNOWN_FIELDS: Record<string, string[]> = {
    "install.istio.io/v1alpha1 IstioOperator": [""],
};

function key(apiVersion: string, kind: string): string {
    return `${apiVersion} ${kind}`;
}

function isModelClass(value: unknown): value is ModelClass {
    const candidate = value as Partial<ModelClass> | undefined;
    return typeof value === "function" && typeof candidate?.apiVersion === "string" && typeof candidate.kind === "string";
}

let lookup: Promise<Map<string, ModelClass>> | undefined;

/**
 * `apiVersion kind` -> model class, for every top-level kind of the packages. The root index files
 * re-export each API group as a namespace (`apps`, `networkingIstioIo`...), each group its
 * versions (`v1`, `v1beta1`...), and each version its classes; only classes with a static
 * apiVersion and kind are objects (the others are nested types such as DeploymentSpec).
 */
function models(): Promise<Map<string, ModelClass>> {
    lookup ??= (async () => {
        const found = new Map<string, { model: ModelClass; where: string }>();
        const visited = new Set<object>();
        const walk = (namespace: Record<string, unknown>, where: string): void => {
            if (visited.has(namespace)) {
                return;
            }
            visited.add(namespace);
            for (const [name, value] of Object.entries(namespace)) {
                if (isModelClass(value)) {
                    const k = key(value.apiVersion, value.kind);
                    const existing = found.get(k);
                    if (existing !== undefined && existing.model !== value) {
                        throw new Error(`two models for ${k}: ${existing.where} and ${where}.${name}`);
                    }
                    found.set(k, { model: value, where: `${where}.${name}` });
                } else if (value !== null && typeof value === "object") {
                    walk(value as Record<string, unknown>, `${where}.${name}`);
                }
            }
        };
        for (const specifier of SCHEMA_PACKAGES) {
            walk((await importEsm(specifier)) as Record<string, unknown>, specifier);
        }
        return new Map([...found].map(([k, v]) => [k, v.model]));
    })();
    lookup.catch(() => {
        lookup = undefined;
    });
    return lookup;
}

/** Every `apiVersion kind` with an upstream schema, sorted. */
export async function knownKinds(): Promise<string[]> {
    return [...(await models()).keys()].sort();
}

const direct = new Map<string, Promise<ModelClass | undefined>>();

/**
 * The model of one kind loaded by its own module, `<package>/<group>/<version>/<Kind>` (each package
 * exports that subpath; the core group is `v1/<Kind>`), so that validating a few kinds does not
 * load every model of the five packages (their root indexes take over a second to import). Undefined
 * when no package has that file; more than one is an error, as in the full walk.
 */
export function modelFromModule(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
    const k = key(apiVersion, kind);
    let found = direct.get(k);
    if (found === undefined) {
        found = (async () => {
            if (!/^[\w.-]+(\/[\w.-]+)?$/.test(apiVersion) || !/^\w+$/.test(kind)) {
                return undefined;
            }
            const candidates = SCHEMA_PACKAGES.filter((specifier) =>
                existsSync(join(dirname(require.resolve(`${specifier}/package.json`)), apiVersion, `${kind}.js`)),
            );
            if (candidates.length > 1) {
                throw new Error(`two models for ${k}: ${candidates.join(" and ")}`);
            }
            if (candidates.length === 0) {
                return undefined;
            }
            const module = (await importEsm(`${candidates[0]}/${apiVersion}/${kind}`)) as Record<string, unknown>;
            const model = module[kind];
            return isModelClass(model) && model.apiVersion === apiVersion && model.kind === kind ? model : undefined;
        })();
        direct.set(k, found);
    }
    return found;
}

/** The model class of an apiVersion and kind, or undefined when no package has one. */
export async function modelFor(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
    return (await modelFromModule(apiVersion, kind)) ?? (await models()).get(key(apiVersion, kind));
}

function pointer(path: (string | number)[]): string {
    return path.map((p) => `/${String(p).replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");
}

function describeError(error: AjvError): string {
    const at = error.instancePath === "" ? "/" : error.instancePath;
    const allowed = error.params?.allowedValues;
    const suffix = Array.isArray(allowed) ? ` (${allowed.map((v) => JSON.stringify(v)).join(", ")})` : "";
    return `${at}: ${error.message ?? error.keyword}${suffix}`;
}

/** What the validator did with one object of the data. */
interface Access {
    looked: Set<PropertyKey>;
    enumerated: boolean;
}

/** Wraps `root` so that every property lookup and key enumeration, at any depth, is recorded. */
function track(root: object): { proxy: object; accesses: WeakMap<object, Access> } {
    const accesses = new WeakMap<object, Access>();
    const proxies = new WeakMap<object, object>();
    const accessOf = (target: object): Access => {
        let access = accesses.get(target);
        if (access === undefined) {
            access = { looked: new Set(), enumerated: false };
            accesses.set(target, access);
        }
        return access;
    };
    const wrap = (target: object): object => {
        let proxy = proxies.get(target);
        if (proxy === undefined) {
            proxy = new Proxy(target, {
                get(t, property, receiver) {
                    accessOf(t).looked.add(property);
                    const value = Reflect.get(t, property, receiver) as unknown;
                    return value !== null && typeof value === "object" ? wrap(value) : value;
                },
                has(t, property) {
                    accessOf(t).looked.add(property);
                    return Reflect.has(t, property);
                },
                getOwnPropertyDescriptor(t, property) {
                    accessOf(t).looked.add(property);
                    return Reflect.getOwnPropertyDescriptor(t, property);
                },
                ownKeys(t) {
                    accessOf(t).enumerated = true;
                    return Reflect.ownKeys(t);
                },
            });
            proxies.set(target, proxy);
        }
        return proxy;
    };
    return { proxy: wrap(root), accesses };
}

/** Keys the validator never looked up, in objects whose declared properties it did look up. */
function unknownFields(value: unknown, accesses: WeakMap<object, Access>, open: string[], path: (string | number)[] = []): string[] {
    if (value === null || typeof value !== "object") {
        return [];
    }
    if (Array.isArray(value)) {
        return value.flatMap((item, i) => unknownFields(item, accesses, open, [...path, i]));
    }
    const access = accesses.get(value);
    if (access === undefined || access.enumerated) {
        // Never reached (under a free-form or mistyped parent), or a map: every key is allowed.
        return [];
    }
    if (![...access.looked].some((k) => typeof k === "string")) {
        // Not a single property looked up: a free-form object (no declared properties).
        return [];
    }
    const preserves = open.includes(pointer(path));
    return Object.keys(value).flatMap((k) => {
        if (access.looked.has(k)) {
            return unknownFields((value as Record<string, unknown>)[k], accesses, open, [...path, k]);
        }
        return preserves ? [] : [`${pointer([...path, k])}: unknown field (not in the upstream schema)`];
    });
}

/**
 * Problems of one object against its upstream schema; empty when it is valid. Each problem is
 * `<JSON pointer>: <message>`, or `no upstream schema for <apiVersion> <kind>`.
 */
export async function validateKubeObject(object: KubeObjectLike, options: ValidateOptions = {}): Promise<string[]> {
    const model = await modelFor(object.apiVersion, object.kind);
    if (model === undefined) {
        return [`no upstream schema for ${object.apiVersion} ${object.kind}`];
    }
    // The model constructor copies the data (dropping undefined values), so the Proxy never touches
    // the caller's object.
    const instance = new model(object);
    const { proxy, accesses } = track(instance);
    const problems: string[] = [];
    try {
        (proxy as { validate(): void }).validate();
    } catch (error) {
        const errors = (error as { errors?: AjvError[] }).errors;
        if (!Array.isArray(errors)) {
            throw error;
        }
        problems.push(...errors.map(describeError));
    }
    if (options.unknownFields ?? true) {
        problems.push(...unknownFields(instance, accesses, PRESERVES_UNKNOWN_FIELDS[key(object.apiVersion, object.kind)] ?? []));
    }
    return [...new Set(problems)];
}
