/**
 * The `addons` section: which cluster add-ons this stack installs (Istio, Argo CD, Argo Rollouts,
 * cert-manager, metrics-server, Cluster Autoscaler, AWS Load Balancer Controller, Datadog), and the
 * deployer-access rule of the `cluster` section. Every add-on is on by default; `enabled: false`
 * is for clusters where a platform team already runs it. Chart versions, repositories and
 * namespaces are pinned in `components/addons/defaults.ts`; a stack may override a chart version.
 *
 * Secret fields (set with `pulumi config set --secret --path`): `addons.argocd.repoCredentials.password`,
 * `addons.datadog.apiKey`, `addons.datadog.appKey`.
 */
import { z } from "zod";
import { Report } from "./fields";

/** Config keys of the add-ons, in the order the documentation lists them. */
export const ADDON_NAMES = [
    "istio",
    "argocd",
    "argoRollouts",
    "certManager",
    "metricsServer",
    "clusterAutoscaler",
    "awsLoadBalancerController",
    "datadog",
] as const;
export type AddonName = (typeof ADDON_NAMES)[number];

/** A Helm chart version: semver, with or without a leading `v` (cert-manager's charts have one). */
const chartVersion = z.string().regex(/^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/, {
    error: 'must be a chart version such as "1.30.4" or "v1.21.1"',
});

/** What every add-on accepts. */
const common = {
    /** Install the add-on. Default: true. */
    enabled: z.boolean().default(true),
    /** Chart version overriding the pinned one of `components/addons/defaults.ts`. Default: the pinned version. */
    chartVersion: chartVersion.optional(),
};

const plainAddon = z.strictObject(common).prefault({});

/** A secret string: never empty; the loader sees it decrypted, the program wraps it as a Pulumi secret. */
const secretString = z.string().min(1);

export const addonsSchema = z
    .strictObject({
        istio: plainAddon,
        argocd: z
            .strictObject({
                ...common,
                /**
                 * Read credentials of `delivery.repoURL` for Argo CD (https): stored in a Kubernetes Secret
                 * labelled as an Argo CD repository, never in a rendered file. Default: none (a public repository).
                 */
                repoCredentials: z
                    .strictObject({
                        /** User name, e.g. a deploy bot's. */
                        username: z.string().min(1),
                        /** Token or password: `pulumi config set --secret --path 'addons.argocd.repoCredentials.password'`. */
                        password: secretString,
                    })
                    .optional(),
            })
            .prefault({}),
        argoRollouts: plainAddon,
        certManager: plainAddon,
        metricsServer: plainAddon,
        clusterAutoscaler: plainAddon,
        awsLoadBalancerController: plainAddon,
        datadog: z
            .strictObject({
                ...common,
                /** API key: `pulumi config set --secret --path 'addons.datadog.apiKey'`. Required when enabled. */
                apiKey: secretString.optional(),
                /** Application key, for the Cluster Agent's external metrics provider. Required when enabled. */
                appKey: secretString.optional(),
                /** Datadog site. Default: datadoghq.com. */
                site: z
                    .string()
                    .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/, { error: "must be a Datadog site such as datadoghq.com or ap1.datadoghq.com" })
                    .default("datadoghq.com"),
            })
            .prefault({}),
    })
    .prefault({});

export type AddonsConfig = z.output<typeof addonsSchema>;

/** Who runs `pulumi up`: the two `cluster` fields that open the API endpoint's port 443 to them. */
export const deployerAccessFields = {
    /** CIDRs of the machines that run `pulumi up` (CI runners, a bastion), admitted on 443 by the cluster security group. Default: none. */
    deployerCidrs: z.array(z.cidrv4()).default([]),
    /** Security groups of those machines, admitted on 443 by the cluster security group. Default: none. */
    deployerSecurityGroupIds: z
        .array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, { error: "must be a security group id (sg-0123456789abcdef0)" }))
        .default([]),
};

/**
 * A private endpoint is reachable only through the cluster security group: without a deployer
 * path the Kubernetes provider of `pulumi up` would wait at its first object until it times out.
 * Add-on rules that need other sections: the Datadog keys.
 */
export function checkAddons(
    config: {
        cluster: { endpointPublicAccess: boolean; deployerCidrs: string[]; deployerSecurityGroupIds: string[] };
        addons: AddonsConfig;
    },
    report: Report,
): void {
    const { cluster, addons } = config;
    if (!cluster.endpointPublicAccess && cluster.deployerCidrs.length === 0 && cluster.deployerSecurityGroupIds.length === 0) {
        report(
            ["cluster", "deployerCidrs"],
            "the API endpoint is private (endpointPublicAccess: false) and no deployer path is configured: " +
                "set cluster.deployerCidrs and/or cluster.deployerSecurityGroupIds to the network of the machine that runs `pulumi up`",
        );
    }
    if (addons.datadog.enabled) {
        for (const key of ["apiKey", "appKey"] as const) {
            if (addons.datadog[key] === undefined) {
                report(
                    ["addons", "datadog", key],
                    `is required while the Datadog add-on is enabled: pulumi config set --secret --path 'addons.datadog.${key}' <key>, or set addons.datadog.enabled: false`,
                );
            }
        }
    }
}
