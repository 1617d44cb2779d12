/**
 * Every object name the program derives from the configuration, in one place, and the check that
 * no two of them collide. Two objects of one kind with one name in one namespace are one object
 * to Kubernetes, and one URN to Pulumi (the URN holds the parent component's type, the kind and
 * the name, not the namespace): the second would crash the run with a duplicate-URN error or
 * silently overwrite the first in the cluster. Here the collision is a config error naming both
 * config keys.
 *
 * The patterns mirror the components' name builders (`bff-service/names.ts`,
 * `ingress-gateway/render.ts` gatewayNames, `global-rate-limit/render.ts` rateLimitNames,
 * `routing/`, `delivery/`, `stacks/`); `tests/config-derived-names.test.ts` runs the program and
 * asserts that every object it registers is predicted here, so a new object cannot slip past.
 */
import { staticUploadJobName, staticUploadServiceAccount } from "../shared";
import type { AddonsConfig } from "./addons";
import { ADDON_NAMESPACES, ADDON_SECRETS, DEFAULTS, PLATFORM_APPS } from "./defaults";
import type { Report } from "./fields";
import type { GatewayConfig } from "./gateway";
import { hostGatewayName } from "./gateway";
import type { GlobalRateLimitConfig } from "./rate-limits";
import type { HostConfig } from "./schema";
import type { ServiceConfig } from "./service";

/** One object the program registers, and the config key its name comes from. */
export interface DerivedObject {
    kind: string;
    /** Namespace, or undefined for cluster-scoped objects and directories. */
    namespace?: string;
    name: string;
    /** Pulumi parent component type: part of the URN. */
    parent: string;
    /** Config path the name is derived from (`["services", 3, "name"]`). */
    source: (string | number)[];
    /** The value at `source`. */
    value: string;
    /** What the object is, for messages ("canary Service"). */
    what: string;
    /** Pulumi's logical name when it is not the object's name (objects of one name in several namespaces). */
    logicalName?: string;
}

/** The parsed sections the names come from; a section that did not parse is left out. */
export interface NameSources {
    environment?: string;
    appNamespace?: string;
    hosts?: readonly (HostConfig | undefined)[];
    gateways?: readonly (GatewayConfig | undefined)[];
    services?: readonly (ServiceConfig | undefined)[];
    rateLimit?: GlobalRateLimitConfig;
    argocd?: { namespace: string; mode: "argocd" | "direct"; backup: boolean };
    addons?: AddonsConfig;
}

/** Platform app directories; a service taking one of these names is refused by `checkServices`. */
const RESERVED_APPS = new Set<string>(Object.values(PLATFORM_APPS));

const SERVICE = "bff-platform:service:BffService";
const GATEWAY = "bff-platform:gateway:IngressGateway";
const ROUTES = "bff-platform:routing:HostRoutes";
const DELIVERY = "bff-platform:delivery:DeliveryTargets";
const RATE_LIMIT = "bff-platform:ratelimit:GlobalRateLimit";
const STACK = "pulumi:pulumi:Stack";
const ADDONS = "bff-platform:addons:ClusterAddons";

/** Every derived object of the parsed sections. */
export function derivedObjects(sources: NameSources): DerivedObject[] {
    const objects: DerivedObject[] = [];
    const add = (o: DerivedObject) => objects.push(o);
    const app = sources.appNamespace;
    const apps: { name: string; source: (string | number)[]; what: string }[] = [];

    if (app !== undefined) {
        add({ kind: "Namespace", name: app, parent: STACK, source: ["appNamespace"], value: app, what: "app namespace" });
    }
    sources.services?.forEach((service, s) => {
        if (service === undefined || app === undefined) {
            return;
        }
        const n = service.name;
        const source = ["services", s, "name"];
        const obj = (kind: string, name: string, what: string) =>
            add({ kind, namespace: app, name, parent: SERVICE, source, value: n, what: `${what} of service ${n}` });
        const canary = service.strategy === "canary";
        obj(canary ? "Rollout" : "Deployment", n, "workload");
        obj("PodDisruptionBudget", n, "PodDisruptionBudget");
        obj("VirtualService", n, "VirtualService");
        obj("ConfigMap", `${n}-env`, "ConfigMap");
        for (const suffix of canary ? ["", "-stable", "-canary"] : [""]) {
            obj("Service", `${n}${suffix}`, `${suffix === "" ? "" : suffix.slice(1) + " "}Service`);
            obj("DestinationRule", `${n}${suffix}`, `${suffix === "" ? "" : suffix.slice(1) + " "}DestinationRule`);
        }
        if (service.hpa !== undefined) {
            obj("HorizontalPodAutoscaler", n, "HorizontalPodAutoscaler");
        }
        if (canary && service.canary?.analysis !== undefined) {
            obj("AnalysisTemplate", `${n}-analysis`, "AnalysisTemplate");
        }
        if (service.migration !== undefined) {
            obj("ServiceEntry", `${n}-legacy`, "legacy ServiceEntry");
        }
        const local = service.rateLimit?.local;
        if (local?.type === "nginx") {
            obj("ConfigMap", `${n}-rate-limiter`, "rate-limiter ConfigMap");
        } else if (local?.type === "envoy") {
            obj("EnvoyFilter", `${n}-local-ratelimit`, "local rate limit EnvoyFilter");
        }
        service.jobs.forEach((job, j) =>
            add({
                kind: job.schedule === undefined ? "Job" : "CronJob",
                namespace: app,
                name: `${n}-${job.name}`,
                parent: SERVICE,
                source: ["services", s, "jobs", j, "name"],
                value: job.name,
                what: `${job.schedule === undefined ? "Job" : "CronJob"} of service ${n}`,
            }),
        );
        // The upload of the release's static files (bff-service/static-upload.ts).
        if (service.staticAssets !== undefined) {
            obj("Job", staticUploadJobName(n, service.version), "static upload Job");
            obj("ServiceAccount", staticUploadServiceAccount(n), "static upload ServiceAccount");
        }
        apps.push({ name: n, source, what: `service ${n}` });
    });

    // Root VirtualServices (app namespace), Gateways and Certificates (gateway namespace) per host.
    const routed = new Set((sources.services ?? []).flatMap((s) => s?.routes.map((r) => r.host) ?? []));
    sources.hosts?.forEach((host, h) => {
        if (host === undefined) {
            return;
        }
        const name = hostGatewayName(host.hostname);
        const source = ["hosts", h, "hostname"];
        if (app !== undefined && routed.has(host.name)) {
            add({
                kind: "VirtualService",
                namespace: app,
                name,
                parent: ROUTES,
                source,
                value: host.hostname,
                what: `root VirtualService of host ${host.name}`,
            });
        }
        const gateway = sources.gateways?.find((g) => g?.hosts.includes(host.name));
        if (gateway !== undefined) {
            add({
                kind: "Gateway",
                namespace: gateway.namespace,
                name,
                parent: GATEWAY,
                source,
                value: host.hostname,
                what: `Gateway of host ${host.name}`,
            });
            if (gateway.tls !== undefined) {
                add({
                    kind: "Certificate",
                    namespace: gateway.namespace,
                    name,
                    parent: GATEWAY,
                    source,
                    value: host.hostname,
                    what: `Certificate of host ${host.name}`,
                });
            }
        }
    });

    sources.gateways?.forEach((gateway, g) => {
        if (gateway === undefined) {
            return;
        }
        const n = gateway.name;
        const ns = gateway.namespace;
        const source = ["gateways", g, "name"];
        const obj = (kind: string, name: string, what: string, parent = GATEWAY, clusterScoped = false) =>
            add({ kind, namespace: clusterScoped ? undefined : ns, name, parent, source, value: n, what: `${what} of gateway ${n}` });
        add({ kind: "Namespace", name: ns, parent: STACK, source: ["gateways", g, "namespace"], value: ns, what: "gateway namespace" });
        if (gateway.mode === "gatewayInjection") {
            for (const kind of [
                "ServiceAccount",
                "Role",
                "RoleBinding",
                "Deployment",
                "Service",
                "HorizontalPodAutoscaler",
                "PodDisruptionBudget",
            ]) {
                obj(kind, n, kind);
            }
        } else {
            obj("IstioOperator", n, "IstioOperator");
        }
        obj("ConfigMap", `${n}-nginx`, "nginx ConfigMap");
        obj("ConfigMap", `${n}-error-pages`, "error pages ConfigMap");
        obj("ConfigMap", `${n}-fluent-bit`, "fluent-bit ConfigMap");
        if (gateway.tls !== undefined) {
            obj("ClusterIssuer", `${n}-issuer`, "ClusterIssuer", GATEWAY, true);
        }
        if (sources.rateLimit !== undefined) {
            obj("EnvoyFilter", `${n}-ratelimit`, "global rate limit EnvoyFilter", RATE_LIMIT);
            obj("EnvoyFilter", `${n}-ratelimit-actions`, "global rate limit actions EnvoyFilter", RATE_LIMIT);
        }
        apps.push({ name: n, source, what: `gateway ${n}` });
    });

    if (sources.rateLimit !== undefined) {
        const ns = sources.rateLimit.namespace;
        add({
            kind: "Namespace",
            name: ns,
            parent: STACK,
            source: ["rateLimits", "global", "namespace"],
            value: ns,
            what: "rate limit namespace (istio-injection disabled)",
        });
    }
    // The namespaces of the workloads' NetworkPolicies (stacks/namespaces.ts): default deny in the
    // app and each gateway namespace, the BFFs' allowances, each gateway's.
    const policy = (namespace: string, name: string, source: (string | number)[], value: string, what: string) =>
        // Registered as `<namespace>-<name>` (stacks/namespaces.ts): every namespace has its default-deny-ingress.
        add({ kind: "NetworkPolicy", namespace, name, parent: STACK, source, value, what, logicalName: `${namespace}-${name}` });
    if (app !== undefined) {
        policy(app, "default-deny-ingress", ["appNamespace"], app, "default-deny NetworkPolicy of the app namespace");
        // Stryker disable next-line ArrayDeclaration: equivalent, gateways are undefined only when their section failed, and the one policy predicted then collides with no other object.
        if ((sources.gateways ?? []).length > 0) {
            policy(app, "bff-from-gateways", ["appNamespace"], app, "NetworkPolicy admitting the gateways to the BFFs");
        }
        policy(app, "bff-from-metrics-scrapers", ["appNamespace"], app, "NetworkPolicy admitting the metrics scrapers to the BFFs");
    }
    const gatewayNamespaces = new Set<string>();
    sources.gateways?.forEach((gateway, g) => {
        if (gateway === undefined) {
            return;
        }
        if (!gatewayNamespaces.has(gateway.namespace) && gateway.namespace !== app) {
            gatewayNamespaces.add(gateway.namespace);
            policy(
                gateway.namespace,
                "default-deny-ingress",
                ["gateways", g, "namespace"],
                gateway.namespace,
                "default-deny NetworkPolicy of a gateway namespace",
            );
        }
        policy(
            gateway.namespace,
            `${gateway.name}-from-clients`,
            ["gateways", g, "name"],
            gateway.name,
            `NetworkPolicy admitting clients to gateway ${gateway.name}`,
        );
        policy(
            gateway.namespace,
            `${gateway.name}-from-metrics-scrapers`,
            ["gateways", g, "name"],
            gateway.name,
            `NetworkPolicy admitting the metrics scrapers to gateway ${gateway.name}`,
        );
    });

    // Cluster add-ons (components/addons): a namespace each, and the Secrets of their credentials.
    const addons = sources.addons;
    if (addons !== undefined) {
        for (const [name, namespace] of Object.entries(ADDON_NAMESPACES) as [keyof typeof ADDON_NAMESPACES, string][]) {
            if (!addons[name].enabled) {
                continue;
            }
            const ns = name === "argocd" ? (sources.argocd?.namespace ?? namespace) : namespace;
            add({
                kind: "Namespace",
                name: ns,
                parent: ADDONS,
                source: ["addons", name],
                value: ns,
                what: `${name} add-on's namespace`,
            });
        }
        if (addons.argocd.enabled && addons.argocd.repoCredentials !== undefined) {
            const ns = sources.argocd?.namespace ?? ADDON_NAMESPACES.argocd;
            const name = ADDON_SECRETS.argocdRepository;
            add({
                kind: "Secret",
                namespace: ns,
                name,
                parent: ADDONS,
                source: ["addons", "argocd", "repoCredentials"],
                value: name,
                what: "Argo CD's repository Secret",
            });
        }
        if (addons.datadog.enabled) {
            const name = ADDON_SECRETS.datadogKeys;
            add({
                kind: "Secret",
                namespace: ADDON_NAMESPACES.datadog,
                name,
                parent: ADDONS,
                source: ["addons", "datadog"],
                value: name,
                what: "Datadog keys Secret",
            });
        }
    }

    // Argo CD: one Application and one directory per app, plus the root Application.
    if (sources.argocd?.mode === "argocd") {
        const argocd = sources.argocd.namespace;
        const platform = [
            { name: PLATFORM_APPS.hostRoutes, what: "the host routes' app" },
            { name: PLATFORM_APPS.applications, what: "the child Applications' directory" },
            { name: DEFAULTS.rootApplication, what: "the root Application" },
        ];
        add({
            kind: "AppProject",
            namespace: argocd,
            name: DEFAULTS.partOf,
            parent: DELIVERY,
            source: [],
            value: DEFAULTS.partOf,
            what: "the team's AppProject",
        });
        if (sources.argocd.backup) {
            // stacks/backup.ts: the export's ServiceAccount, its Role and RoleBinding, the CronJob.
            for (const kind of ["ServiceAccount", "Role", "RoleBinding", "CronJob"]) {
                const name = DEFAULTS.argocdBackup;
                add({
                    kind,
                    namespace: argocd,
                    name,
                    parent: STACK,
                    source: ["delivery", "backup"],
                    value: name,
                    what: `the Argo CD backup's ${kind}`,
                });
            }
        }
        for (const reserved of platform) {
            add({
                kind: "Application",
                namespace: argocd,
                name: reserved.name,
                parent: DELIVERY,
                source: [],
                value: reserved.name,
                what: reserved.what,
            });
        }
        for (const entry of apps) {
            add({
                kind: "Application",
                namespace: argocd,
                name: entry.name,
                parent: DELIVERY,
                source: entry.source,
                value: entry.name,
                what: `Application and manifests directory of ${entry.what}`,
            });
        }
    }
    return objects;
}

/** `services[*].name`: the field a source stands for, whatever the entry. */
function fieldOf(source: (string | number)[]): string {
    return source.map((p) => (typeof p === "number" ? "*" : p)).join(".");
}

/**
 * Reports every pair of config keys whose derived objects collide, once per pair, at the later
 * key. Pairs of one field with one value (two services named alike, two gateways sharing a
 * namespace on purpose) are left to the uniqueness rules of their lists.
 */
export function checkDerivedNames(sources: NameSources, report: Report, describe: (path: (string | number)[]) => string): void {
    const byIdentity = new Map<string, DerivedObject>();
    const pairs = new Map<string, { later: DerivedObject; first: DerivedObject; what: string[] }>();
    for (const object of derivedObjects(sources)) {
        // Kubernetes identity (kind, namespace, name) and Pulumi's URN (parent type, kind, name).
        for (const identity of [
            `k8s ${object.kind} ${object.namespace ?? ""} ${object.name}`,
            `urn ${object.parent} ${object.kind} ${object.logicalName ?? object.name}`,
        ]) {
            const first = byIdentity.get(identity);
            if (first === undefined) {
                byIdentity.set(identity, object);
                continue;
            }
            if (fieldOf(first.source) === fieldOf(object.source) && first.value === object.value) {
                continue;
            }
            if (first.source.length === 0 && object.source.length === 0) {
                continue;
            }
            // A service named like a platform app directory is reported by the services' own rule.
            const reserved = first.source.length === 0 ? object : object.source.length === 0 ? first : undefined;
            if (reserved !== undefined && fieldOf(reserved.source) === "services.*.name" && RESERVED_APPS.has(reserved.value)) {
                continue;
            }
            const [a, b] = object.source.length === 0 ? [object, first] : [first, object];
            const key = `${describe(a.source)}|${describe(b.source)}`;
            const pair = pairs.get(key) ?? { later: b, first: a, what: [] };
            const text = `${b.kind} "${b.name}"${b.namespace === undefined ? "" : ` in namespace ${b.namespace}`}`;
            if (!pair.what.includes(text)) {
                pair.what.push(text);
            }
            pairs.set(key, pair);
        }
    }
    for (const { later, first, what } of pairs.values()) {
        const other =
            first.source.length === 0
                ? `${first.what} (reserved by the platform)`
                : `the ${first.what} from ${describe(first.source)} ${JSON.stringify(first.value)}`;
        report(
            later.source,
            `${JSON.stringify(later.value)} gives the ${later.what} the name of ${other}: ${what.join(", ")}; Kubernetes and Pulumi would see one object, so rename one of them`,
        );
    }
}
