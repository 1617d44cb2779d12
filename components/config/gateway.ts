/** The `gateways` section: Istio ingress gateways, their access-log sidecars, hosts and TLS (docs/design.md §4). */
import { z } from "zod";
import { checkName } from "../shared";
import { DEFAULTS, GATEWAY_DEFAULTS } from "./defaults";
import { checkUnique, isRecord, kubeName, nonNegativeInt, percent, positiveInt, Report, resourcesSchema, unknownHost } from "./fields";

/** Longest suffix the gateway component appends to a gateway's name (`<name>-error-pages`). */
const LONGEST_GATEWAY_SUFFIX = "-error-pages".length;

/** Cookies are logged as nginx variables `$cookie_<name>`: a variable name takes letters, digits and '_' only. */
const cookieName = z.string().regex(/^[A-Za-z0-9_]{1,64}$/, {
    error: "must be a cookie name of letters, digits and '_' (nginx logs it as $cookie_<name>, which cannot hold other characters)",
});

/** IANA time zone name such as Asia/Tokyo, or UTC. */
export const timeZone = z.string().regex(/^(UTC|[A-Z][A-Za-z_-]+(\/[A-Za-z0-9_+-]+){1,2})$/, {
    error: 'must be an IANA time zone name such as "Asia/Tokyo" or "UTC"',
});

/** Absolute directory on the node, without `..` or a trailing slash. */
const hostDirectory = z
    .string()
    .regex(/^(\/[A-Za-z0-9._-]+)+$/, { error: 'must be an absolute directory path such as "/var/log/istio-ingressgateway"' })
    .refine((p) => !p.split("/").includes(".."), { error: "must not contain '..'" });

/** `http://host[:port]` without path: nginx resolves the host once, when it starts. */
const mirrorUrl = z.string().regex(/^http:\/\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:\d{1,5})?$/, {
    error: 'must be http://<host>[:<port>] without a path, e.g. "http://shadow-gateway.frontend-gateway.svc.cluster.local:8080"',
});

const sidecarResourcesSchema = z.strictObject({
    /** istio-proxy, sized through its annotations. */
    proxy: resourcesSchema.optional(),
    nginx: resourcesSchema.optional(),
    fluentBit: resourcesSchema.optional(),
});

const acmeSchema = z.strictObject({
    /** Account e-mail for expiry notices. */
    email: z.email({ error: "must be an e-mail address" }),
    /** ACME directory; Let's Encrypt production by default. */
    server: z.url({ protocol: /^https$/, error: "must be an https:// URL" }).default(GATEWAY_DEFAULTS.acmeServer),
    /** DNS-01 through Route 53 (HTTP-01 would need the challenge routed through this very gateway). */
    route53: z.strictObject({
        region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: "must be an AWS region name (e.g. ap-northeast-1)" }),
        hostedZoneId: z.string().regex(/^Z[A-Z0-9]{1,31}$/, { error: "must be a Route 53 hosted zone id (Z...)" }),
    }),
});

const tlsSchema = z.strictObject({
    /** Where certificates come from: exactly one of `acme` and `ca`. */
    issuer: z.strictObject({
        acme: acmeSchema.optional(),
        /** A private CA: the name of its key pair Secret in cert-manager's namespace (kept in the secrets repository). */
        ca: z.strictObject({ secretName: kubeName("dns1123Subdomain") }).optional(),
    }),
    /** Answer plain-HTTP requests with a redirect to HTTPS (Gateway `tls.httpsRedirect`). */
    redirectHttp: z.boolean().default(false),
});

export const gatewaySchema = z.strictObject({
    name: kubeName("dns1123Label", 63 - LONGEST_GATEWAY_SUFFIX).default("istio-ingressgateway"),
    namespace: kubeName("dns1123Label").default(DEFAULTS.gatewayNamespace),
    /** `gatewayInjection` (current Istio) or `istioOperator` (the handbook's operator file). */
    mode: z.enum(["gatewayInjection", "istioOperator"]).default("gatewayInjection"),
    /** Names of `hosts` entries served by this gateway. */
    hosts: z.array(kubeName("dns1123Label")).min(1),
    minReplicas: positiveInt.default(2),
    maxReplicas: positiveInt.default(4),
    /** HPA target: CPU utilization of the whole pod (istio-proxy, nginx and fluent-bit requests). */
    targetCpuUtilization: percent.default(DEFAULTS.hpaTargetCpuUtilization),
    /** Type of the gateway's Service: ClusterIP for an ALB with IP targets, NodePort for instance targets or Apache. */
    serviceType: z.enum(["ClusterIP", "NodePort", "LoadBalancer"]).default("ClusterIP"),
    /** Annotations of the gateway's Service (load balancer controller settings). */
    serviceAnnotations: z.record(z.string(), z.string()).default({}),
    /**
     * Requests/s one gateway pod is rated for (default 1000): the access log keeps every record up
     * to it, fluent-bit's CPU request and receive buffer are derived from it, and the HPA should
     * scale out before a pod reaches it.
     */
    ratedRequestsPerSecond: positiveInt.default(GATEWAY_DEFAULTS.ratedRequestsPerSecond),
    /** Requests and limits per container; defaults in GATEWAY_DEFAULTS.resources (fluent-bit: from ratedRequestsPerSecond). */
    resources: sidecarResourcesSchema.default({}),
    accessLog: z
        .strictObject({
            /** Cookies whose values the access log records (`cookie_<name>` fields). */
            cookies: z.array(cookieName).default([]),
            /** Time zone of nginx's local time and of the dated log directories. */
            timeZone: timeZone.default(GATEWAY_DEFAULTS.accessLogTimeZone),
            /** Directory on the gateway node where the dated access logs are written. */
            hostPath: hostDirectory.default(GATEWAY_DEFAULTS.accessLogHostPath),
        })
        .prefault({}),
    /** Proxies in front of the gateway whose X-Forwarded-For nginx trusts to find the client address. */
    realIp: z.strictObject({ trustedCidrs: z.array(z.cidrv4()).min(1) }).optional(),
    /** HTML of the error pages nginx serves itself (istio-proxy unreachable, rate limited). */
    errorPages: z.strictObject({ serverError: z.string().min(1).optional(), tooManyRequests: z.string().min(1).optional() }).default({}),
    /** Copy of every GET request to a shadow upstream (migration: load the new platform with real traffic, docs/design.md §9). */
    mirror: z.strictObject({ url: mirrorUrl, percent: percent.default(100) }).optional(),
    /** nginx leaky bucket for the whole pod: rate, queue (burst) and the part of the queue forwarded at once (delay). */
    rateLimit: z.strictObject({ requestsPerSecond: positiveInt, burst: nonNegativeInt, delay: nonNegativeInt.optional() }).optional(),
    /** HTTPS with certificates from cert-manager; without it the gateway serves plain HTTP only (TLS ends at the load balancer). */
    tls: tlsSchema.optional(),
    /** `istioOperator` mode only: `istioctl` writes the IstioOperator file for `istioctl install -f`; `operator` applies it for an in-cluster operator. */
    istioOperator: z.strictObject({ install: z.enum(["istioctl", "operator"]).default("istioctl") }).optional(),
});

export type GatewayConfig = z.output<typeof gatewaySchema>;
export type GatewayTlsConfig = NonNullable<GatewayConfig["tls"]>;

/**
 * Rules across gateways and hosts. `gateways` holds the entries that parsed, at their index;
 * `rawGateways` the entries as written (for names); `hostNames` is undefined when the hosts
 * section is unusable (its own problem is reported there).
 */
export function checkGateways(
    gateways: readonly (GatewayConfig | undefined)[],
    rawGateways: unknown,
    hostNames: Set<string> | undefined,
    report: Report,
): void {
    if (Array.isArray(rawGateways)) {
        // A gateway without a name takes the default one: two of them collide like two equal names.
        checkUnique(
            report,
            rawGateways.map((entry, g) => ({ name: gateways[g]?.name ?? (isRecord(entry) ? entry.name : undefined) })),
            "name",
            ["gateways"],
        );
    }
    const servedBy = new Map<string, string>();
    gateways.forEach((gateway, g) => {
        if (gateway === undefined) {
            return;
        }
        const at = (...rest: (string | number)[]) => ["gateways", g, ...rest];
        gateway.hosts.forEach((host, h) => {
            if (hostNames !== undefined && !hostNames.has(host)) {
                report(at("hosts", h), unknownHost(host, hostNames));
            }
            const first = servedBy.get(host);
            if (first !== undefined) {
                report(at("hosts", h), `"${host}" is already served by gateway ${first}: a host has one Gateway object, so one gateway`);
            } else {
                servedBy.set(host, gateway.name);
            }
        });
        if (gateway.minReplicas > gateway.maxReplicas) {
            report(at("minReplicas"), `${gateway.minReplicas} is above maxReplicas ${gateway.maxReplicas}`);
        }
        gateway.accessLog.cookies.forEach((cookie, c) => {
            if (gateway.accessLog.cookies.indexOf(cookie) !== c) {
                report(at("accessLog", "cookies", c), `"${cookie}" is listed twice`);
            }
        });
        const limit = gateway.rateLimit;
        if (limit?.delay !== undefined && limit.delay > limit.burst) {
            report(at("rateLimit", "delay"), `${limit.delay} is above burst ${limit.burst}`);
        }
        const issuer = gateway.tls?.issuer;
        if (issuer !== undefined && (issuer.acme === undefined) === (issuer.ca === undefined)) {
            report(at("tls", "issuer"), "set exactly one of acme and ca");
        }
        if (gateway.istioOperator !== undefined && gateway.mode !== "istioOperator") {
            report(at("istioOperator"), `applies to mode istioOperator only (this gateway's mode is ${gateway.mode})`);
        }
        for (const [key, value] of Object.entries(gateway.serviceAnnotations)) {
            const name = key.includes("/") ? key.slice(key.indexOf("/") + 1) : key;
            if (checkName("labelValue", name) !== undefined || name === "" || value.length > 4096) {
                report(at("serviceAnnotations", key), "is not an annotation key Kubernetes accepts ([prefix/]name)");
            }
        }
    });
}

/**
 * Name of the Istio `Gateway` object of a host: the hostname with dots as dashes
 * (`pc.example.com` -> `pc-example-com`, as in the handbook). VirtualServices bind to it as
 * `<gateway namespace>/<name>`.
 */
export function hostGatewayName(hostname: string): string {
    return hostname.replace(/\./g, "-");
}
