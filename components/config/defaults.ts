/**
 * Every default and pinned version in one place (the cdk-eks-blueprints rule): a reviewer sees
 * what a stack gets when it says nothing, and a version bump is a one-line change here.
 */

/** Pulumi project name; also the namespace of the stack config keys (`bff-platform:services`). */
export const PROJECT = "bff-platform";

/** Names derived from a service name by appending these; the config check keeps room for the longest. */
export const SERVICE_NAME_SUFFIXES = ["-stable", "-canary", "-preview"] as const;

/** Listening port and health endpoint per runtime (SYSTEM.md §1 templates); a service may override both. */
export const RUNTIME_DEFAULTS = {
    nodejs: { port: 3000, healthPath: "/healthz" },
    ruby: { port: 3000, healthPath: "/healthz" },
    scala: { port: 9000, healthPath: "/healthz" },
    php: { port: 8080, healthPath: "/healthz" },
} as const;

export type Runtime = keyof typeof RUNTIME_DEFAULTS;

/**
 * istio-proxy requests and limits, set on every meshed pod through its annotations
 * (`sidecar.istio.io/proxyCPU` and friends). The values are Istio's own chart defaults; they count
 * in the scheduler's and the HPA's arithmetic (SYSTEM.md §5), so the report includes them.
 */
export const ISTIO_PROXY_RESOURCES = {
    requests: { cpu: "100m", memory: "128Mi" },
    limits: { cpu: "2", memory: "1Gi" },
} as const;

export const DEFAULTS = {
    /** Kubernetes version of new clusters; EKS upgrades one minor at a time. */
    kubernetesVersion: "1.33",
    /** Control-plane log types sent to CloudWatch. */
    clusterLogTypes: ["api", "audit", "authenticator"],
    nodeDiskSizeGiB: 50,
    /** Namespace of the BFF workloads (Argo CD child Applications deploy here). */
    appNamespace: "frontend",
    /** Namespace of the ingress gateway and its sidecars. */
    gatewayNamespace: "frontend-gateway",
    /** `app.kubernetes.io/part-of` of everything this program creates. */
    partOf: "frontend",
    /** Seconds the pod keeps serving after being removed from endpoints (SYSTEM.md §6). */
    preStopSleepSeconds: 5,
    /** Grace period after SIGTERM; must exceed the preStop sleep. */
    terminationGracePeriodSeconds: 30,
    hpaTargetCpuUtilization: 70,
    argocdNamespace: "argocd",
    /** Where generated manifests live in the repository Argo CD syncs (SYSTEM.md §1). */
    manifestsPath: "kubernetes/overlays",
    rootApplication: "frontend-apps",
} as const;
