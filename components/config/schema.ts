/**
 * The one schema of a stack's configuration: everything `Pulumi.<stack>.yaml` may say under the
 * `bff-platform:` namespace, assembled from one file per section. Objects are strict (an unknown
 * key is a typo and an error) and names follow the Kubernetes rules. Rules within one entry are
 * refinements of that entry's schema; rules across entries and sections are in `checks.ts`, and
 * `load.ts` parses each section (and each list entry) on its own so that every rule runs on
 * whatever parsed.
 */
import { z } from "zod";
import { addonsSchema, deployerAccessFields } from "./addons";
import { DEFAULTS } from "./defaults";
import { kubeName, nonNegativeInt, positiveInt } from "./fields";
import { gatewaySchema, timeZone } from "./gateway";
import { costSchema, ecrSchema, networkSchema, scheduleSchema, staticAssetsSchema } from "./platform";
import { backendSchema, rateLimitsSchema } from "./rate-limits";
import { serviceSchema } from "./service";

/**
 * Longest prefix of an EKS managed node group name: the AWS provider appends a 26-character unique
 * suffix and the name may have 63 characters (hashicorp/terraform-provider-aws,
 * internal/service/eks/node_group.go: `node_group_name_prefix` is validated with
 * `StringLenBetween(0, 63-id.UniqueIDSuffixLength)`; terraform-plugin-sdk helper/id: a 26-digit suffix).
 */
export const NODE_GROUP_PREFIX_MAX = 63 - 26;

/** The prefix the cluster component gives a pool's node group name (`<cluster>-<pool>-`). */
export function nodeGroupNamePrefix(clusterName: string, poolName: string): string {
    return `${clusterName}-${poolName}-`;
}

const clusterSchema = z.strictObject({
    /** EKS cluster name. */
    name: kubeName("dns1123Label"),
    /** Kubernetes minor version, e.g. "1.33". */
    kubernetesVersion: z
        .string()
        .regex(/^1\.\d{2}$/, { error: 'must be a Kubernetes minor version such as "1.33"' })
        .default(DEFAULTS.kubernetesVersion),
    /** Existing VPC, owned outside this program. Required unless `network.create` is true (then refused). */
    vpcId: z
        .string()
        .regex(/^vpc-[0-9a-f]{8,17}$/, { error: "must be a VPC id (vpc-0123456789abcdef0)" })
        .optional(),
    /** Private subnets in at least two availability zones (docs/design.md §8). Required unless `network.create` is true (then refused). */
    privateSubnetIds: z
        .array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, { error: "must be a subnet id (subnet-0123456789abcdef0)" }))
        .min(2, { error: "must list private subnets in at least two availability zones" })
        .superRefine((subnets, ctx) =>
            subnets.forEach((subnet, i) => {
                const first = subnets.indexOf(subnet);
                if (first !== i) {
                    // EKS counts distinct subnets: a repeat would hide that only one AZ is listed.
                    ctx.addIssue({ code: "custom", path: [i], message: `"${subnet}" is already listed at privateSubnetIds[${first}]` });
                }
            }),
        )
        .optional(),
    /** Whether the API endpoint is reachable from the internet; off by default (docs/design.md §8). */
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

const nodePoolSchema = z
    .strictObject({
        /** Node group name, unique in the stack. */
        name: kubeName("dns1123Label"),
        /** `node-role` label of the nodes; gateway nodes are also tainted for gateway pods only. */
        role: z.enum(NODE_ROLES),
        /** EC2 instance types; list several for spot so that one market's shortage does not empty the pool. */
        instanceTypes: z
            .array(z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, { error: "must be an EC2 instance type such as c6i.xlarge" }))
            .min(1),
        /** SPOT for dev/QA, ON_DEMAND for production (docs/design.md §8). */
        capacityType: z.enum(["ON_DEMAND", "SPOT"]),
        minSize: nonNegativeInt,
        maxSize: positiveInt,
        /** Size at creation only: the Cluster Autoscaler owns it afterwards and the program ignores later changes. */
        desiredSize: nonNegativeInt,
        diskSizeGiB: z.number().int().min(20).max(16384).default(DEFAULTS.nodeDiskSizeGiB),
    })
    .superRefine((pool, ctx) => {
        if (pool.minSize > pool.maxSize) {
            ctx.addIssue({ code: "custom", path: ["minSize"], message: `${pool.minSize} is above maxSize ${pool.maxSize}` });
        }
        if (pool.desiredSize < pool.minSize || pool.desiredSize > pool.maxSize) {
            ctx.addIssue({
                code: "custom",
                path: ["desiredSize"],
                message: `${pool.desiredSize} is outside minSize..maxSize (${pool.minSize}..${pool.maxSize})`,
            });
        }
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
    /**
     * Git repository Argo CD syncs. It is written into every Application, so it may carry no
     * credential: Argo CD reads repository credentials from its own repository Secrets.
     */
    repoURL: z.url({ protocol: /^(https|ssh)$/, error: "must be an https:// or ssh:// git URL" }).superRefine((value, ctx) => {
        const problem = repoUrlCredential(value);
        if (problem !== undefined) {
            ctx.addIssue({ code: "custom", message: problem });
        }
    }),
    /** Branch: `master` for non-production, `release/production` for production (docs/design.md §2). */
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
            bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
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

/** A stack whose name differs from its `environment` on purpose, and why (see `environmentOverride`). */
const environmentOverrideSchema = z.strictObject({
    /** Why this stack deploys an environment of another name, e.g. "blue/green twin of production during the 1.34 upgrade". */
    reason: z.string().trim().min(10, { error: "must say why the stack name and environment differ" }),
});

/**
 * The sections of the configuration, keyed as in `Pulumi.<stack>.yaml` without the
 * `bff-platform:` prefix. Lists are parsed entry by entry (see {@link LIST_SECTIONS}).
 */
export const SECTION_SCHEMAS = {
    /** Environment name: dev, qa, production, ... (a DNS label; it appears in names and RELEASE_ENV). Must equal the stack name. */
    environment: kubeName("dns1123Label"),
    /**
     * Lets the stack name differ from `environment` (default: none, they must be equal): a copied
     * stack file would otherwise deploy another environment's cluster, hostnames and GitOps directory.
     */
    environmentOverride: environmentOverrideSchema.optional(),
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
    /** S3 bucket and CloudFront distribution of the static files; the services' upload Jobs write to it. Default: none. */
    staticAssets: staticAssetsSchema.optional(),
    /** ECR repositories, one per service. Default: disabled. */
    ecr: ecrSchema.default(() => ecrSchema.parse({})),
    /** Night stop of the node groups (dev/QA). Default: none. */
    schedule: scheduleSchema.optional(),
    /** Monthly budget of the cost estimate. Default: none. */
    cost: costSchema.default({}),
    /** A VPC of the stack's own (`create: true`) instead of `cluster.vpcId` and `cluster.privateSubnetIds`. Default: none. */
    network: networkSchema.optional(),
    /** Cluster add-ons (components/addons): each on by default, off where a platform team runs it. */
    addons: addonsSchema,
};

/** The list sections: each entry is parsed on its own, `min` entries at least. */
export const LIST_SECTIONS = {
    nodePools: { item: nodePoolSchema, min: 1 },
    hosts: { item: hostSchema, min: 1 },
    gateways: { item: gatewaySchema, min: 0 },
    services: { item: serviceSchema, min: 1 },
    backends: { item: backendSchema, min: 0 },
} as const;

/** The whole stack configuration (the type of a validated stack, and the keys for "did you mean"). */
export const stackConfigSchema = z.strictObject(SECTION_SCHEMAS);

export type StackConfig = z.output<typeof stackConfigSchema>;
export type ClusterConfig = StackConfig["cluster"];
export type NodePoolConfig = StackConfig["nodePools"][number];
export type HostConfig = StackConfig["hosts"][number];
export type DeliveryConfig = StackConfig["delivery"];

/**
 * A credential inside a git URL (`https://user:token@host/...`), or `undefined`. An ssh URL's user
 * name (`ssh://git@github.com/...`) is no credential; on https any user part is (GitHub accepts a
 * token as the user name).
 */
export function repoUrlCredential(url: string): string | undefined {
    let parsed: URL;
    try {
        parsed = new URL(url);
    } catch {
        return undefined;
    }
    const hasUser = parsed.username !== "" && parsed.protocol === "https:";
    if (parsed.password === "" && !hasUser) {
        return undefined;
    }
    const shown = `${parsed.protocol}//***@${parsed.host}${parsed.pathname}`;
    return `carries a credential (${shown}): it would be written in plain text into every Argo CD Application; give Argo CD the repository credentials through its repository Secret and write the URL without them`;
}
