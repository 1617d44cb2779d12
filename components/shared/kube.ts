/**
 * Kubernetes objects as plain data, and one way to register them. Components render objects as
 * data (testable without the runtime, identical in every delivery mode) and register them here:
 * built-in kinds through their typed Pulumi classes (so the provider knows their semantics, e.g.
 * replacing a Job whose template changed), custom resources through `CustomResource`.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** A Kubernetes object as it is applied. */
export interface KubeObject {
    apiVersion: string;
    kind: string;
    metadata: {
        name: string;
        namespace?: string;
        labels?: Record<string, string>;
        annotations?: Record<string, string>;
        finalizers?: string[];
    };
    [field: string]: unknown;
}

type Constructor = new (name: string, args: never, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource;

/** Built-in kinds with a typed class; anything else is registered as a CustomResource. */
const BUILT_IN: Record<string, Constructor> = {
    "v1/ConfigMap": k8s.core.v1.ConfigMap,
    "v1/Namespace": k8s.core.v1.Namespace,
    "v1/Secret": k8s.core.v1.Secret,
    "v1/Service": k8s.core.v1.Service,
    "v1/ServiceAccount": k8s.core.v1.ServiceAccount,
    "apps/v1/Deployment": k8s.apps.v1.Deployment,
    "apps/v1/StatefulSet": k8s.apps.v1.StatefulSet,
    "autoscaling/v2/HorizontalPodAutoscaler": k8s.autoscaling.v2.HorizontalPodAutoscaler,
    "batch/v1/CronJob": k8s.batch.v1.CronJob,
    "batch/v1/Job": k8s.batch.v1.Job,
    "networking.k8s.io/v1/NetworkPolicy": k8s.networking.v1.NetworkPolicy,
    "policy/v1/PodDisruptionBudget": k8s.policy.v1.PodDisruptionBudget,
    "rbac.authorization.k8s.io/v1/Role": k8s.rbac.v1.Role,
    "rbac.authorization.k8s.io/v1/RoleBinding": k8s.rbac.v1.RoleBinding,
};

/**
 * Registers `object` as a Pulumi resource named after the object: the URN also holds the type, so
 * objects of different kinds with the same name never collide. Objects of one kind and name in
 * several namespaces (the default-deny NetworkPolicy of each) pass their own `logicalName`.
 */
export function createKubeObject(
    object: KubeObject,
    opts?: pulumi.CustomResourceOptions,
    logicalName: string = object.metadata.name,
): pulumi.CustomResource {
    const builtIn = BUILT_IN[`${object.apiVersion}/${object.kind}`];
    if (builtIn !== undefined) {
        return new builtIn(logicalName, object as never, opts);
    }
    return new k8s.apiextensions.CustomResource(logicalName, object as k8s.apiextensions.CustomResourceArgs, opts);
}

/**
 * A component's own `dependsOn`, for its children: Pulumi records it on the component only, so
 * children that must wait (and be deleted first) get it passed down explicitly.
 */
export function inheritedDependsOn(opts?: pulumi.ResourceOptions): pulumi.Input<pulumi.Resource>[] {
    const own = opts?.dependsOn;
    if (own === undefined) {
        return [];
    }
    if (Array.isArray(own)) {
        return own;
    }
    if (pulumi.Resource.isInstance(own)) {
        return [own];
    }
    throw new Error("dependsOn of a component must be a resource or a list of resources");
}
