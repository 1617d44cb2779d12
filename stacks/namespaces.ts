/** Namespaces the layers create, labelled alike. They always go to the cluster itself. */
import * as k8s from "@pulumi/kubernetes";
import { DEFAULTS } from "../components/config";
import { recommendedLabels } from "../components/shared";

/**
 * A namespace with the recommended labels. `istioInjection`: `enabled` for app pods (they get
 * istio-proxy), `disabled` where nothing may be meshed, omitted where pods decide (gateways inject
 * their own template).
 */
export function createNamespace(
    name: string,
    clusterProvider: k8s.Provider,
    istioInjection?: "enabled" | "disabled",
): k8s.core.v1.Namespace {
    return new k8s.core.v1.Namespace(
        name,
        {
            metadata: {
                name,
                labels: {
                    ...recommendedLabels({ name, component: "namespace", partOf: DEFAULTS.partOf }),
                    ...(istioInjection === undefined ? {} : { "istio-injection": istioInjection }),
                },
            },
        },
        { provider: clusterProvider },
    );
}
