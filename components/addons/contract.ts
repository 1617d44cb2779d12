/**
 * The one contract every add-on implements (in the spirit of cdk-eks-blueprints' add-on
 * interface): what it installs (charts from the defaults table, typed values), where (its
 * namespace, the add-on node role or every node), what it waits for (other add-ons, by name),
 * which API kinds it provides (so that custom resources can wait for it, and the report can say
 * what a stack expects on the cluster when it is off) and, when it calls AWS, its ServiceAccount
 * and least-privilege policy.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AddonName, StackConfig } from "../config";
import { ADDON_DEFAULTS, AddonDefaults, WorkloadDefaults } from "./defaults";
import { PolicyDocument } from "./iam";
import { NODE_ROLE_LABEL } from "../cluster";

/** What an add-on knows about the stack it is installed into. */
export interface AddonContext {
    config: StackConfig;
    region: string;
    /** `node-role` of the nodes add-on Deployments run on: `system` when the stack has such a pool, else `worker`. */
    nodeRole: "system" | "worker";
    namespace: string;
    /** The cluster's VPC: `cluster.vpcId`, or the VPC this stack creates (`network.create`). */
    vpcId: pulumi.Input<string>;
}

/** Options for the Kubernetes objects an add-on creates beside its charts (Secrets). */
export type ObjectOptions = pulumi.CustomResourceOptions & { provider: k8s.Provider };

export interface AddonModule {
    name: AddonName;
    /** Add-ons whose releases must exist first. A disabled one is expected on the cluster instead. */
    dependsOn: AddonName[];
    /** API kinds its first chart installs the CRDs of: `group/Kind`, or `group/*` for a whole group. */
    provides: string[];
    /** `addonNodes`: Deployments on the add-on node role; `everyNode`: a DaemonSet as well, on every pool. */
    schedule: "addonNodes" | "everyNode";
    /** Values of each chart, in the order of the defaults table's `charts`. */
    values(ctx: AddonContext): object[];
    /** The AWS identity of a controller that calls AWS: its ServiceAccount and policy. */
    identity?: {
        serviceAccount: string;
        /** Whether this stack needs the identity at all (cert-manager: only with a Route 53 issuer). Default: yes. */
        required?(ctx: AddonContext): boolean;
        policy(ctx: AddonContext & { accountId: string }): PolicyDocument;
    };
    /** Objects created before the charts (Secrets the charts reference), after the namespace. */
    objects?(ctx: AddonContext, opts: ObjectOptions): pulumi.Resource[];
}

/** Requests and limits of a workload as chart values (`resources`). */
export function resources(workload: WorkloadDefaults) {
    return { requests: { ...workload.requests }, limits: { memory: workload.memoryLimit } };
}

/** The defaults of one workload of an add-on, by name; a missing name is a bug in a module. */
export function workload(name: AddonName, workloadName: string): WorkloadDefaults {
    const found = ADDON_DEFAULTS[name].workloads.find((w) => w.name === workloadName);
    if (found === undefined) {
        throw new Error(`add-on ${name} has no workload ${workloadName} in ADDON_DEFAULTS`);
    }
    return found;
}

/** `nodeSelector` of add-on pods. */
export function addonNodeSelector(ctx: AddonContext): Record<string, string> {
    return { [NODE_ROLE_LABEL]: ctx.nodeRole };
}

export type { AddonDefaults };
