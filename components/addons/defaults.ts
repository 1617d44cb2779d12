/**
 * The one table of add-on defaults: per add-on its Helm charts (name, repository, pinned version,
 * release name, in install order), its namespace and the requests of its pods. A version bump is
 * a one-line change here; a stack may override a chart version with `addons.<name>.chartVersion`.
 *
 * Versions are the newest release of each chart's 2026 line that supports Kubernetes 1.33, read
 * from each chart's Chart.yaml or release list (sources next to each entry).
 */
import { ADDON_NAMESPACES, AddonName } from "../config";

export interface ChartDefaults {
    /** Helm release name (also the Pulumi resource name). */
    release: string;
    chart: string;
    repository: string;
    version: string;
}

/** A workload of an add-on, as the report counts it: per pod requests, on `replicas` pods or on every node. */
export interface WorkloadDefaults {
    name: string;
    replicas: number | "perNode";
    requests: { cpu: string; memory: string };
    /** Memory limit (no CPU limit: controllers are not throttled). */
    memoryLimit: string;
}

export interface AddonDefaults {
    title: string;
    charts: ChartDefaults[];
    namespace: string;
    workloads: WorkloadDefaults[];
}

const ISTIO_REPOSITORY = "https://istio-release.storage.googleapis.com/charts";
const ARGO_REPOSITORY = "https://argoproj.github.io/argo-helm";
/**
 * Istio 1.30: supported, for Kubernetes 1.32-1.36 (istio/istio.io `data/compatibility/supportStatus.yml`);
 * 1.30.4 is its newest patch (https://istio.io/latest/news/releases/1.30.x/). One version for both charts.
 */
const ISTIO_VERSION = "1.30.4";

export const ADDON_DEFAULTS: Record<AddonName, AddonDefaults> = {
    istio: {
        title: "Istio",
        charts: [
            // CRDs and the default-revision validating webhook.
            { release: "istio-base", chart: "base", repository: ISTIO_REPOSITORY, version: ISTIO_VERSION },
            { release: "istiod", chart: "istiod", repository: ISTIO_REPOSITORY, version: ISTIO_VERSION },
        ],
        namespace: ADDON_NAMESPACES.istio,
        // istiod's chart default requests (istio/istio manifests/charts/istio-control/istio-discovery/values.yaml).
        workloads: [{ name: "istiod", replicas: 2, requests: { cpu: "500m", memory: "2Gi" }, memoryLimit: "4Gi" }],
    },
    argocd: {
        title: "Argo CD",
        // argo-helm charts/argo-cd/Chart.yaml: 10.1.1 = Argo CD v3.4.4.
        charts: [{ release: "argo-cd", chart: "argo-cd", repository: ARGO_REPOSITORY, version: "10.1.1" }],
        // Overridden by `delivery.argocdNamespace`.
        namespace: ADDON_NAMESPACES.argocd,
        workloads: [
            { name: "application-controller", replicas: 1, requests: { cpu: "250m", memory: "1Gi" }, memoryLimit: "2Gi" },
            { name: "repo-server", replicas: 1, requests: { cpu: "100m", memory: "256Mi" }, memoryLimit: "1Gi" },
            { name: "server", replicas: 1, requests: { cpu: "50m", memory: "128Mi" }, memoryLimit: "256Mi" },
            { name: "redis", replicas: 1, requests: { cpu: "100m", memory: "128Mi" }, memoryLimit: "256Mi" },
            { name: "applicationset-controller", replicas: 1, requests: { cpu: "50m", memory: "64Mi" }, memoryLimit: "256Mi" },
            { name: "notifications-controller", replicas: 1, requests: { cpu: "50m", memory: "64Mi" }, memoryLimit: "128Mi" },
        ],
    },
    argoRollouts: {
        title: "Argo Rollouts",
        // argo-helm charts/argo-rollouts/Chart.yaml: 2.41.0 = Argo Rollouts v1.9.0.
        charts: [{ release: "argo-rollouts", chart: "argo-rollouts", repository: ARGO_REPOSITORY, version: "2.41.0" }],
        namespace: ADDON_NAMESPACES.argoRollouts,
        // The chart's default: two controllers with leader election.
        workloads: [{ name: "argo-rollouts", replicas: 2, requests: { cpu: "50m", memory: "128Mi" }, memoryLimit: "256Mi" }],
    },
    certManager: {
        title: "cert-manager",
        // cert-manager/cert-manager tag v1.21.1 (the chart version is the release tag).
        charts: [{ release: "cert-manager", chart: "cert-manager", repository: "https://charts.jetstack.io", version: "v1.21.1" }],
        namespace: ADDON_NAMESPACES.certManager,
        workloads: [
            { name: "cert-manager", replicas: 1, requests: { cpu: "50m", memory: "128Mi" }, memoryLimit: "256Mi" },
            { name: "cert-manager-webhook", replicas: 1, requests: { cpu: "20m", memory: "64Mi" }, memoryLimit: "128Mi" },
            { name: "cert-manager-cainjector", replicas: 1, requests: { cpu: "20m", memory: "128Mi" }, memoryLimit: "256Mi" },
        ],
    },
    metricsServer: {
        title: "metrics-server",
        // kubernetes-sigs/metrics-server charts/metrics-server/Chart.yaml: 3.13.1 = metrics-server 0.8.1.
        charts: [
            {
                release: "metrics-server",
                chart: "metrics-server",
                repository: "https://kubernetes-sigs.github.io/metrics-server/",
                version: "3.13.1",
            },
        ],
        namespace: ADDON_NAMESPACES.metricsServer,
        // The chart's default requests.
        workloads: [{ name: "metrics-server", replicas: 1, requests: { cpu: "100m", memory: "200Mi" }, memoryLimit: "400Mi" }],
    },
    clusterAutoscaler: {
        title: "Cluster Autoscaler",
        // kubernetes/autoscaler cluster-autoscaler/charts/cluster-autoscaler/Chart.yaml: 9.59.0; the image is
        // pinned to the cluster's minor (see cluster-autoscaler.ts).
        charts: [
            {
                release: "cluster-autoscaler",
                chart: "cluster-autoscaler",
                repository: "https://kubernetes.github.io/autoscaler",
                version: "9.59.0",
            },
        ],
        namespace: ADDON_NAMESPACES.clusterAutoscaler,
        // The figures of the autoscaler's AWS example deployment.
        workloads: [{ name: "cluster-autoscaler", replicas: 1, requests: { cpu: "100m", memory: "600Mi" }, memoryLimit: "600Mi" }],
    },
    awsLoadBalancerController: {
        title: "AWS Load Balancer Controller",
        // aws/eks-charts stable/aws-load-balancer-controller/Chart.yaml: 3.5.0 = controller v3.5.0.
        charts: [
            {
                release: "aws-load-balancer-controller",
                chart: "aws-load-balancer-controller",
                repository: "https://aws.github.io/eks-charts",
                version: "3.5.0",
            },
        ],
        namespace: ADDON_NAMESPACES.awsLoadBalancerController,
        // The chart's default: two replicas (leader election, the webhook stays available).
        workloads: [{ name: "aws-load-balancer-controller", replicas: 2, requests: { cpu: "50m", memory: "128Mi" }, memoryLimit: "256Mi" }],
    },
    datadog: {
        title: "Datadog",
        // DataDog/helm-charts charts/datadog/Chart.yaml: 3.240.0 (Agent 7).
        charts: [{ release: "datadog", chart: "datadog", repository: "https://helm.datadoghq.com", version: "3.240.0" }],
        namespace: ADDON_NAMESPACES.datadog,
        workloads: [
            { name: "datadog-agent", replicas: "perNode", requests: { cpu: "200m", memory: "256Mi" }, memoryLimit: "512Mi" },
            { name: "datadog-cluster-agent", replicas: 2, requests: { cpu: "200m", memory: "256Mi" }, memoryLimit: "512Mi" },
        ],
    },
};
