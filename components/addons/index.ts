/**
 * Cluster add-ons (`bff-platform:addons:ClusterAddons`): every enabled add-on of `addons` gets its
 * namespace, its AWS identity (IAM role and policy, EKS Pod Identity association) when it calls
 * AWS, the Secrets its charts reference, and one `helm.v3.Release` per chart, in an order derived
 * from the add-ons' declared dependencies (never from list order). Each release waits for the node
 * groups its pods schedule onto, its namespace, its identity and the add-ons it depends on.
 *
 * `helm.v3.Release` is one custom resource with chart, version, repository and values as inputs:
 * a preview and the mock runtime see exactly what will be installed (a remote component would
 * show no children under mocks).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AddonName, DEFAULTS, StackConfig } from "../config";
import { ADDON_NAMESPACE_COMPONENT, createKubeObject, createWorkloadIdentity, inheritedDependsOn, recommendedLabels } from "../shared";
import { AddonContext, AddonModule } from "./contract";
import { ADDON_DEFAULTS } from "./defaults";
import { ADDONS, addonNamespace, addonNodeRole, addonOrder, chartVersion } from "./registry";

export * from "./argocd";
export * from "./argo-rollouts";
export * from "./aws-load-balancer-controller";
export * from "./aws-load-balancer-controller-policy";
export * from "./cert-manager";
export * from "./cluster-autoscaler";
export * from "./contract";
export * from "./datadog";
export * from "./defaults";
export * from "./iam";
export * from "./istio";
export * from "./metrics-server";
export * from "./registry";
export * from "./report";

export interface ClusterAddonsArgs {
    config: StackConfig;
    region: string;
    /** EKS cluster name and ARN (the account id of the Cluster Autoscaler's policy comes from it). */
    clusterName: pulumi.Input<string>;
    clusterArn: pulumi.Input<string>;
    /** Node groups by `node-role`: a release waits for the groups its pods schedule onto. */
    nodeGroups: Record<string, pulumi.Resource[]>;
    /** The EKS Pod Identity Agent: associations are useless before it runs. */
    podIdentityAgent: pulumi.Resource;
    clusterProvider: k8s.Provider;
    tags: Record<string, string>;
    /** The VPC of a network this stack creates (`network.create`). Default: `cluster.vpcId`. */
    vpcId?: pulumi.Input<string>;
}

export class ClusterAddons extends pulumi.ComponentResource {
    /** Releases of each enabled add-on, in chart order. */
    readonly releases: Partial<Record<AddonName, k8s.helm.v3.Release[]>> = {};
    readonly namespaces: Partial<Record<AddonName, pulumi.Resource>> = {};

    constructor(name: string, args: ClusterAddonsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bff-platform:addons:ClusterAddons", name, {}, opts);
        const { config, clusterProvider } = args;
        const inherited = inheritedDependsOn(opts);
        const nodeRole = addonNodeRole(config);
        const accountId = pulumi.output(args.clusterArn).apply((arn) => arn.split(":")[4]);

        for (const addonName of addonOrder(config)) {
            const addon = ADDONS[addonName];
            const defaults = ADDON_DEFAULTS[addonName];
            const namespace = addonNamespace(addonName, config);
            const ctx: AddonContext = { config, region: args.region, nodeRole, namespace, vpcId: args.vpcId ?? config.cluster.vpcId ?? "" };
            const objectOptions = { parent: this, provider: clusterProvider, dependsOn: inherited };

            const namespaceObject = createKubeObject(
                {
                    apiVersion: "v1",
                    kind: "Namespace",
                    metadata: {
                        name: namespace,
                        labels: {
                            ...recommendedLabels({ name: namespace, component: ADDON_NAMESPACE_COMPONENT, partOf: DEFAULTS.partOf }),
                            // Add-on pods never get istio-proxy.
                            "istio-injection": "disabled",
                        },
                    },
                },
                objectOptions,
            );
            this.namespaces[addonName] = namespaceObject;
            const inNamespace = { ...objectOptions, dependsOn: [...inherited, namespaceObject] };

            const identity = this.identity(addonName, addon, ctx, accountId, args, inherited);
            const objects = addon.objects?.(ctx, inNamespace) ?? [];
            const nodeGroups = addon.schedule === "everyNode" ? Object.values(args.nodeGroups).flat() : (args.nodeGroups[nodeRole] ?? []);
            const dependencies = addon.dependsOn.flatMap((d) => this.releases[d] ?? []);
            const values = addon.values(ctx);

            const releases: k8s.helm.v3.Release[] = [];
            defaults.charts.forEach((chart, i) => {
                releases.push(
                    new k8s.helm.v3.Release(
                        chart.release,
                        {
                            name: chart.release,
                            chart: chart.chart,
                            version: chartVersion(addonName, i, config),
                            repositoryOpts: { repo: chart.repository },
                            namespace,
                            createNamespace: false,
                            values: values[i] as Record<string, unknown>,
                            // Wait until the workloads are ready: what depends on an add-on finds it working.
                            timeout: 900,
                        },
                        {
                            parent: this,
                            provider: clusterProvider,
                            dependsOn: [
                                ...inherited,
                                namespaceObject,
                                ...nodeGroups,
                                ...dependencies,
                                ...identity,
                                ...objects,
                                ...releases,
                            ],
                        },
                    ),
                );
            });
            this.releases[addonName] = releases;
        }
        this.registerOutputs({});
    }

    /** Releases of the given add-ons that this stack installs (disabled ones are expected on the cluster). */
    releasesOf(...names: AddonName[]): pulumi.Resource[] {
        return names.flatMap((n) => this.releases[n] ?? []);
    }

    /** IAM role, policy and Pod Identity association of an add-on that calls AWS. */
    private identity(
        addonName: AddonName,
        addon: AddonModule,
        ctx: AddonContext,
        accountId: pulumi.Output<string>,
        args: ClusterAddonsArgs,
        inherited: pulumi.Input<pulumi.Resource>[],
    ): pulumi.Resource[] {
        if (addon.identity === undefined) {
            return [];
        }
        const { serviceAccount, required, policy: policyOf } = addon.identity;
        if (required !== undefined && !required(ctx)) {
            return [];
        }
        const document = accountId.apply((id) => policyOf({ ...ctx, accountId: id }));
        const { association, attachment } = createWorkloadIdentity(
            `${args.config.cluster.name}-${ADDON_DEFAULTS[addonName].charts[0].release}`,
            {
                clusterName: args.clusterName,
                namespace: ctx.namespace,
                serviceAccount,
                policy: document,
                description: `${ADDON_DEFAULTS[addonName].title} in EKS cluster ${args.config.cluster.name}`,
                tags: args.tags,
                dependsOn: [args.podIdentityAgent],
            },
            { parent: this, dependsOn: inherited },
        );
        return [association, attachment];
    }
}
