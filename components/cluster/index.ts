/**
 * EKS cluster with managed node groups per role, and the Kubernetes provider that talks to it
 * (docs/design.md §8). Built on `@pulumi/aws` resources directly, so that every object is visible to a
 * preview and to the mock runtime (the `@pulumi/eks` 3+ component is remote: no children under mocks).
 */
import { aws } from "../shared";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterConfig, NodePoolConfig } from "../config";

/** Label every node carries; workloads select their pool with it (docs/design.md §6). */
export const NODE_ROLE_LABEL = "node-role";

/** Taint of gateway nodes: only pods that tolerate it (the ingress gateways) land there. */
export const GATEWAY_TAINT = { key: "dedicated", value: "gateway", effect: "NoSchedule" } as const;

export interface EksClusterArgs {
    /** Cluster settings from the stack config (`bff-platform:cluster`). */
    cluster: ClusterConfig;
    /** Node pools from the stack config (`bff-platform:nodePools`). */
    nodePools: NodePoolConfig[];
    /** AWS region, written into the kubeconfig's `aws eks get-token` call. */
    region: string;
    /** Tags on every AWS resource. Default: none besides the ones AWS needs. */
    tags?: Record<string, string>;
    /** Private subnets of a network this stack creates (`network.create`). Default: `cluster.privateSubnetIds`. */
    subnetIds?: pulumi.Input<string>[];
}

function assumeRolePolicy(service: string): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
    });
}

const CLUSTER_POLICIES = ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"];
/** The minimum a managed node needs: join the cluster, run the VPC CNI, pull from ECR. */
const NODE_POLICIES = [
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
];

/** Builds a kubeconfig that authenticates with `aws eks get-token` (no static credential in it). */
export function kubeconfigFor(args: {
    name: pulumi.Input<string>;
    endpoint: pulumi.Input<string>;
    caData: pulumi.Input<string>;
    region: string;
}) {
    return pulumi.all([args.name, args.endpoint, args.caData]).apply(([name, endpoint, caData]) =>
        JSON.stringify({
            apiVersion: "v1",
            kind: "Config",
            clusters: [{ name, cluster: { server: endpoint, "certificate-authority-data": caData } }],
            contexts: [{ name, context: { cluster: name, user: name } }],
            "current-context": name,
            users: [
                {
                    name,
                    user: {
                        exec: {
                            apiVersion: "client.authentication.k8s.io/v1beta1",
                            command: "aws",
                            args: ["eks", "get-token", "--cluster-name", name, "--region", args.region],
                        },
                    },
                },
            ],
        }),
    );
}

/**
 * An EKS cluster, its node groups and a Kubernetes provider for it.
 *
 * The cluster and its secrets key are protected: deleting them takes an explicit `pulumi state
 * unprotect`. Node group sizes belong to the Cluster Autoscaler after creation
 * (`ignoreChanges: scalingConfig.desiredSize`), so a `pulumi up` never fights it.
 */
export class EksCluster extends pulumi.ComponentResource {
    readonly clusterName: pulumi.Output<string>;
    /** Kubeconfig of the cluster; a secret output. */
    readonly kubeconfig: pulumi.Output<string>;
    /** Provider for objects applied to the cluster directly. */
    readonly provider: k8s.Provider;
    readonly nodeGroups: aws.eks.NodeGroup[];
    /** Node groups by their `node-role`. */
    readonly nodeGroupsByRole: Record<string, aws.eks.NodeGroup[]> = {};
    readonly clusterArn: pulumi.Output<string>;
    /** EKS managed add-ons: vpc-cni, kube-proxy, eks-pod-identity-agent, coredns. */
    readonly managedAddons: Record<string, aws.eks.Addon> = {};
    /** Ingress rules of the cluster security group that let the deployer reach the API on 443. */
    readonly deployerAccess: aws.vpc.SecurityGroupIngressRule[];

    constructor(name: string, args: EksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bff-platform:cluster:EksCluster", name, {}, opts);
        const { cluster } = args;
        const tags = { ...args.tags };
        const subnetIds = args.subnetIds ?? cluster.privateSubnetIds;
        if (subnetIds === undefined) {
            // The config schema requires one or the other; this is a caller's bug.
            throw new Error("EksCluster: no subnets (cluster.privateSubnetIds or the created network's)");
        }
        const parent = { parent: this };

        const clusterRole = new aws.iam.Role(`${name}-cluster`, { assumeRolePolicy: assumeRolePolicy("eks.amazonaws.com"), tags }, parent);
        const clusterPolicies = CLUSTER_POLICIES.map(
            (policyArn, i) => new aws.iam.RolePolicyAttachment(`${name}-cluster-${i}`, { role: clusterRole.name, policyArn }, parent),
        );

        // Envelope encryption of Kubernetes Secrets with a key of our own, rotated yearly.
        const secretsKey = new aws.kms.Key(
            `${name}-secrets`,
            { description: `Kubernetes Secrets of EKS cluster ${cluster.name}`, enableKeyRotation: true, tags },
            { ...parent, protect: true },
        );

        const eksCluster = new aws.eks.Cluster(
            name,
            {
                name: cluster.name,
                version: cluster.kubernetesVersion,
                roleArn: clusterRole.arn,
                vpcConfig: {
                    subnetIds,
                    endpointPrivateAccess: true,
                    endpointPublicAccess: cluster.endpointPublicAccess,
                    publicAccessCidrs: cluster.endpointPublicAccess ? cluster.publicAccessCidrs : undefined,
                },
                accessConfig: { authenticationMode: "API" },
                encryptionConfig: { resources: ["secrets"], provider: { keyArn: secretsKey.arn } },
                enabledClusterLogTypes: cluster.logTypes,
                tags,
            },
            { ...parent, protect: true, dependsOn: clusterPolicies },
        );

        cluster.adminRoleArns.forEach((principalArn, i) => {
            const entry = new aws.eks.AccessEntry(`${name}-admin-${i}`, { clusterName: eksCluster.name, principalArn, tags }, parent);
            new aws.eks.AccessPolicyAssociation(
                `${name}-admin-${i}`,
                {
                    clusterName: eksCluster.name,
                    principalArn,
                    policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
                    accessScope: { type: "cluster" },
                },
                { ...parent, dependsOn: [entry] },
            );
        });

        // Who runs `pulumi up` reaches the (private) endpoint through the cluster security group,
        // which EKS creates and which otherwise admits only itself.
        const clusterSecurityGroupId = eksCluster.vpcConfig.clusterSecurityGroupId;
        this.deployerAccess = [
            ...cluster.deployerCidrs.map((cidrIpv4, i) => ({ key: `cidr-${i}`, source: { cidrIpv4 }, what: cidrIpv4 })),
            ...cluster.deployerSecurityGroupIds.map((referencedSecurityGroupId, i) => ({
                key: `sg-${i}`,
                source: { referencedSecurityGroupId },
                what: referencedSecurityGroupId,
            })),
        ].map(
            ({ key, source, what }) =>
                new aws.vpc.SecurityGroupIngressRule(
                    `${name}-deployer-${key}`,
                    {
                        securityGroupId: clusterSecurityGroupId,
                        ipProtocol: "tcp",
                        fromPort: 443,
                        toPort: 443,
                        description: `pulumi up from ${what} to the Kubernetes API`,
                        ...source,
                        tags,
                    },
                    parent,
                ),
        );

        // EKS managed add-ons (https://docs.aws.amazon.com/eks/latest/userguide/eks-add-ons.html).
        // No addonVersion: EKS installs its default version for the cluster's Kubernetes version.
        // OVERWRITE takes over the self-managed copies a new cluster starts with.
        const managedAddon = (addonName: string, configurationValues?: object, dependsOn: pulumi.Resource[] = []) =>
            new aws.eks.Addon(
                `${name}-${addonName}`,
                {
                    clusterName: eksCluster.name,
                    addonName,
                    resolveConflictsOnCreate: "OVERWRITE",
                    resolveConflictsOnUpdate: "OVERWRITE",
                    configurationValues: configurationValues === undefined ? undefined : JSON.stringify(configurationValues),
                    tags,
                },
                { ...parent, dependsOn },
            );
        // Network policy enforcement: the NetworkPolicies this program writes do nothing without it.
        // The key and its string value are the vpc-cni add-on's configuration schema
        // (https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy.html).
        this.managedAddons["vpc-cni"] = managedAddon("vpc-cni", { enableNetworkPolicy: "true" });
        this.managedAddons["kube-proxy"] = managedAddon("kube-proxy");
        this.managedAddons["eks-pod-identity-agent"] = managedAddon("eks-pod-identity-agent");

        const nodeRole = new aws.iam.Role(`${name}-node`, { assumeRolePolicy: assumeRolePolicy("ec2.amazonaws.com"), tags }, parent);
        const nodePolicies = NODE_POLICIES.map(
            (policyArn, i) => new aws.iam.RolePolicyAttachment(`${name}-node-${i}`, { role: nodeRole.name, policyArn }, parent),
        );

        this.nodeGroups = args.nodePools.map(
            (pool) =>
                new aws.eks.NodeGroup(
                    `${name}-${pool.name}`,
                    {
                        clusterName: eksCluster.name,
                        nodeGroupNamePrefix: `${cluster.name}-${pool.name}-`,
                        nodeRoleArn: nodeRole.arn,
                        subnetIds,
                        instanceTypes: pool.instanceTypes,
                        capacityType: pool.capacityType,
                        diskSize: pool.diskSizeGiB,
                        scalingConfig: { minSize: pool.minSize, maxSize: pool.maxSize, desiredSize: pool.desiredSize },
                        // One node at a time: PDBs keep serving pods available while nodes are replaced.
                        updateConfig: { maxUnavailable: 1 },
                        labels: { [NODE_ROLE_LABEL]: pool.role },
                        taints:
                            pool.role === "gateway" ? [{ key: GATEWAY_TAINT.key, value: GATEWAY_TAINT.value, effect: "NO_SCHEDULE" }] : [],
                        tags: {
                            ...tags,
                            // Auto-discovery tags of the Cluster Autoscaler (docs/design.md §8).
                            "k8s.io/cluster-autoscaler/enabled": "true",
                            [`k8s.io/cluster-autoscaler/${cluster.name}`]: "owned",
                        },
                    },
                    {
                        ...parent,
                        // Nodes join with the network policy agent configured and kube-proxy in place.
                        dependsOn: [...nodePolicies, this.managedAddons["vpc-cni"], this.managedAddons["kube-proxy"]],
                        // The Cluster Autoscaler owns the desired size once the group exists.
                        ignoreChanges: ["scalingConfig.desiredSize"],
                        // A new group (new name prefix) comes up before the old one goes.
                        deleteBeforeReplace: false,
                    },
                ),
        );

        for (const [i, pool] of args.nodePools.entries()) {
            (this.nodeGroupsByRole[pool.role] ??= []).push(this.nodeGroups[i]);
        }
        // CoreDNS is a Deployment: it becomes healthy only once nodes exist.
        this.managedAddons.coredns = managedAddon("coredns", undefined, this.nodeGroups);

        this.clusterName = eksCluster.name;
        this.clusterArn = eksCluster.arn;
        this.kubeconfig = pulumi.secret(
            kubeconfigFor({
                name: eksCluster.name,
                endpoint: eksCluster.endpoint,
                caData: eksCluster.certificateAuthority.data,
                region: args.region,
            }),
        );
        this.provider = new k8s.Provider(
            `${name}-k8s`,
            { kubeconfig: this.kubeconfig, enableServerSideApply: true },
            // Its first call needs nodes (webhooks) and the deployer's network path to the endpoint.
            { ...parent, dependsOn: [...this.nodeGroups, ...this.deployerAccess] },
        );
        this.registerOutputs({ clusterName: this.clusterName, kubeconfig: this.kubeconfig });
    }
}
