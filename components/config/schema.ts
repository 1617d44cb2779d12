/**
 * The one schema of a stack's configuration: everything `Pulumi.<stack>.yaml` may say under the
 * `bff-platform:` namespace, assembled from one file per section. Objects are strict (an unknown
 * key is a typo and an error), names follow the Kubernetes rules, and cross-field rules are checked
 * here so that a bad config fails before a single resource is registered.
 */
import { z } from "zod";
import { addonsSchema, checkAddons, deployerAccessFields } from "./addons";
import { DEFAULTS } from "./defaults";
import { checkUnique, kubeName, nonNegativeInt, positiveInt, Report } from "./fields";
import { checkGateways, gatewaySchema, timeZone } from "./gateway";
import { backendSchema, checkRateLimits, rateLimitsSchema } from "./rate-limits";
import { checkServices, serviceSchema } from "./service";

const clusterSchema = z.strictObject({
    /** EKS cluster name. */
    name: kubeName("dns1123Label"),
    /** Kubernetes minor version, e.g. "1.33". */
    kubernetesVersion: z
        .string()
        .regex(/^1\.\d{2}$/, { error: 'must be a Kubernetes minor version such as "1.33"' })
        .default(DEFAULTS.kubernetesVersion),
    /** Existing VPC; the network is owned outside this program. */
    vpcId: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, { error: "must be a VPC id (vpc-0123456789abcdef0)" }),
    /** Private subnets in at least two availability zones (SYSTEM.md §8). */
    privateSubnetIds: z
        .array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, { error: "must be a subnet id (subnet-0123456789abcdef0)" }))
        .min(2, { error: "must list private subnets in at least two availability zones" }),
    /** Whether the API endpoint is reachable from the internet; off by default (SYSTEM.md §8). */
    endpointPublicAccess: z.boolean().default(false),
    /** CIDRs allowed to reach a public endpoint. */
    publicAccessCidrs: z.array(z.cidrv4()).default([]),
    /** IAM role ARNs granted cluster-admin through EKS access entries. */
    adminRoleArns: z.array(z.string().regex(/^arn:aws:iam::\d{12}:role\/[\w+=,.@/-]+$/, { error: "must be an IAM role ARN" })).default([]),
    /** Control-plane log types sent to CloudWatch. */
    logTypes: z.array(z.enum(["api", "audit", "authenticator", "controllerManager", "scheduler"])).default([...DEFAULTS.clusterLogTypes]),
    ...deployerAccessFields,
});

export const NODE_ROLES = ["gateway", "worker", "system"] as const;

const nodePoolSchema = z.strictObject({
    /** Node group name, unique in the stack. */
    name: kubeName("dns1123Label"),
    /** `node-role` label of the nodes; gateway nodes are also tainted for gateway pods only. */
    role: z.enum(NODE_ROLES),
    /** EC2 instance types; list several for spot so that one market's shortage does not empty the pool. */
    instanceTypes: z
        .array(z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, { error: "must be an EC2 instance type such as c6i.xlarge" }))
        .min(1),
    /** SPOT for dev/QA, ON_DEMAND for production (SYSTEM.md §8). */
    capacityType: z.enum(["ON_DEMAND", "SPOT"]),
    minSize: nonNegativeInt,
    maxSize: positiveInt,
    /** Size at creation only: the Cluster Autoscaler owns it afterwards and the program ignores later changes. */
    desiredSize: nonNegativeInt,
    diskSizeGiB: z.number().int().min(20).max(16384).default(DEFAULTS.nodeDiskSizeGiB),
});

const hostSchema = z.strictObject({
    /** Short name used by gateways and routes, e.g. `pc`. */
    name: kubeName("dns1123Label"),
    /** Fully-qualified host name, e.g. `pc.example.com`. */
    hostname: kubeName("dns1123Subdomain"),
});

const deliverySchema = z.strictObject({
    /** `argocd`: manifests rendered for Argo CD to sync; `direct`: applied by Pulumi to the cluster. */
    mode: z.enum(["argocd", "direct"]).default("argocd"),
    /** Git repository Argo CD syncs. */
    repoURL: z.url({ protocol: /^(https|ssh)$/, error: "must be an https:// or ssh:// git URL" }),
    /** Branch: `master` for non-production, `release/production` for production (SYSTEM.md §2). */
    targetRevision: z.string().min(1),
    /** Directory of the per-environment overlays in that repository. */
    manifestsPath: z
        .string()
        .regex(/^[\w.-]+(\/[\w.-]+)*$/, { error: "must be a relative path" })
        .default(DEFAULTS.manifestsPath),
    argocdNamespace: kubeName("dns1123Label").default(DEFAULTS.argocdNamespace),
    /** Scheduled `argocd admin export` of the Argo CD namespace to an S3 bucket of its own. Default: none. */
    backup: z
        .strictObject({
            /** Five cron fields, read in the stack's `timeZone`, e.g. "0 3 * * *". */
            schedule: z.string().regex(/^(\S+\s+){4}\S+$/, { error: 'must be five cron fields such as "0 3 * * *"' }),
            /** The bucket the exports go to (created and protected; it holds Argo CD's Secrets, so never the static-assets bucket). */
            bucket: z
                .string()
                .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
                    error: "must be an S3 bucket name: 3-63 lowercase letters, digits, '.' and '-'",
                }),
            /** Days an export is kept. */
            retentionDays: z.number().int().min(1).max(3650).default(30),
        })
        .optional(),
    /** Slack channel subscribed to sync notifications of every service. */
    slackChannel: z
        .string()
        .regex(/^[a-z0-9_-]{1,80}$/, { error: "must be a Slack channel name without '#'" })
        .optional(),
});

/** The whole stack configuration, keyed as in `Pulumi.<stack>.yaml` without the `bff-platform:` prefix. */
export const stackConfigSchema = z
    .strictObject({
        /** Environment name: dev, qa, production, ... (a DNS label; it appears in names and RELEASE_ENV). */
        environment: kubeName("dns1123Label"),
        /** Namespace of the BFF workloads. */
        appNamespace: kubeName("dns1123Label").default(DEFAULTS.appNamespace),
        /** The stack's time zone (IANA): the default of every CronJob's `timeZone`. Default: `Asia/Tokyo`. */
        timeZone: timeZone.default(DEFAULTS.timeZone),
        cluster: clusterSchema,
        nodePools: z.array(nodePoolSchema).min(1),
        hosts: z.array(hostSchema).min(1),
        gateways: z.array(gatewaySchema).default([]),
        services: z.array(serviceSchema).min(1),
        rateLimits: rateLimitsSchema.default({}),
        backends: z.array(backendSchema).default([]),
        delivery: deliverySchema,
        addons: addonsSchema,
    })
    .superRefine(checkCrossReferences);

export type StackConfig = z.output<typeof stackConfigSchema>;
export type ClusterConfig = StackConfig["cluster"];
export type NodePoolConfig = StackConfig["nodePools"][number];
export type HostConfig = StackConfig["hosts"][number];

/** Rules that span fields: run once every field has the right type. */
function checkCrossReferences(config: StackConfig, ctx: z.RefinementCtx<StackConfig>): void {
    const report: Report = (path, message) => ctx.addIssue({ code: "custom", path, message });
    checkUnique(report, config.nodePools, "name", ["nodePools"]);
    checkUnique(report, config.hosts, "name", ["hosts"]);
    checkUnique(report, config.hosts, "hostname", ["hosts"]);

    config.nodePools.forEach((pool, i) => {
        if (pool.minSize > pool.maxSize) {
            report(["nodePools", i, "minSize"], `${pool.minSize} is above maxSize ${pool.maxSize}`);
        }
        if (pool.desiredSize < pool.minSize || pool.desiredSize > pool.maxSize) {
            report(["nodePools", i, "desiredSize"], `${pool.desiredSize} is outside minSize..maxSize (${pool.minSize}..${pool.maxSize})`);
        }
    });
    if (!config.nodePools.some((p) => p.role === "worker")) {
        report(["nodePools"], 'needs at least one pool with role "worker": services run on worker nodes');
    }
    if (config.gateways.length > 0 && !config.nodePools.some((p) => p.role === "gateway")) {
        report(["nodePools"], 'needs a pool with role "gateway": gateways run on dedicated gateway nodes (SYSTEM.md §4)');
    }

    const hostNames = new Set(config.hosts.map((h) => h.name));
    checkGateways(config.gateways, hostNames, report);
    checkServices(config.services, hostNames, report);
    const servedHosts = new Set(config.gateways.flatMap((g) => g.hosts));
    config.services.forEach((service, s) =>
        service.routes.forEach((route, r) => {
            if (hostNames.has(route.host) && !servedHosts.has(route.host)) {
                report(["services", s, "routes", r, "host"], `"${route.host}" is served by no gateway: add it to a gateways[].hosts list`);
            }
        }),
    );
    checkAddons(config, report);
    checkRateLimits(config.rateLimits, config.backends, report, {
        services: config.services,
        gateways: config.gateways,
        clusterName: config.cluster.name,
    });
}
