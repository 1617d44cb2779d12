/**
 * Recommended labels (docs/design.md §1). Datadog turns `app.kubernetes.io/*` into the tags
 * kube_app_name, kube_app_instance, kube_app_version, ...; Istio telemetry reads `app` and
 * `version`. Selectors use only the labels that never change for a workload, so that a version
 * bump never touches an immutable selector.
 */
import { assertName } from "./names";

/** The tool that manages every object this program creates. */
export const MANAGED_BY = "pulumi";

/** Identity of one workload, the input of every label set. */
export interface WorkloadIdentity {
    /** Application name, e.g. `pc-web`. Becomes `app.kubernetes.io/name` and `app`. */
    name: string;
    /** Instance, unique per environment, e.g. `pc-web-production`. Defaults to `name`. */
    instance?: string;
    /** Application version, e.g. `1.4.2`. Becomes `app.kubernetes.io/version` and `version`. */
    version?: string;
    /** Role within the architecture, e.g. `bff`, `gateway`, `ratelimit`. */
    component: string;
    /** The higher-level application this one belongs to, e.g. `frontend`. */
    partOf: string;
}

export type Labels = Record<string, string>;

/** The labels a selector may use: stable across versions and deploys. */
export function selectorLabels(id: Pick<WorkloadIdentity, "name" | "instance">): Labels {
    return {
        "app.kubernetes.io/name": id.name,
        "app.kubernetes.io/instance": id.instance ?? id.name,
    };
}

/** Every recommended label, plus `app` and `version` for Istio. Values are checked as label values. */
export function recommendedLabels(id: WorkloadIdentity): Labels {
    const labels: Labels = {
        ...selectorLabels(id),
        "app.kubernetes.io/component": id.component,
        "app.kubernetes.io/part-of": id.partOf,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        app: id.name,
    };
    if (id.version !== undefined) {
        labels["app.kubernetes.io/version"] = id.version;
        labels.version = id.version;
    }
    for (const [key, value] of Object.entries(labels)) {
        assertName("labelValue", value, `label ${key}`);
    }
    return sortKeys(labels);
}

/** Returns a copy with keys in a stable order, so rendered output does not depend on insertion order. */
export function sortKeys<T>(record: Record<string, T>): Record<string, T> {
    // Stryker disable next-line MethodExpression: equivalent in every output; synth writes keys sorted (cli/render.ts sortDeep), and Kubernetes and Pulumi compare maps by key.
    const keys = Object.keys(record).sort();
    return Object.fromEntries(keys.map((key) => [key, record[key]]));
}

/**
 * Argo CD's default tracking label (Argo CD 2.x tracks resources by it; 3.x by an annotation unless
 * `application.resourceTrackingMethod: label`; the key is `application.instanceLabelKey`):
 * argo-cd docs/user-guide/resource_tracking.md. An object that is not in an app's directory must
 * not carry an app's value, or that app prunes it.
 */
export const ARGOCD_TRACKING_LABEL = "app.kubernetes.io/instance";

/** The labels without Argo CD's tracking label, for objects no Argo CD app holds. */
export function withoutTrackingLabel(labels: Labels): Labels {
    return Object.fromEntries(Object.entries(labels).filter(([key]) => key !== ARGOCD_TRACKING_LABEL));
}

/**
 * `app.kubernetes.io/component` of the namespaces that hold cluster add-ons (Istio, Argo CD,
 * cert-manager, ...). Their pods are the charts', with ingress the charts define (the API server
 * calling admission webhooks and metrics-server, every sidecar calling istiod): the program's
 * default-deny NetworkPolicies are for the namespaces of its own workloads, not these.
 */
export const ADDON_NAMESPACE_COMPONENT = "addon";
