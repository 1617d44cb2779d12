/** App layer: namespaces, delivery targets, one BffService per configured service and the host routes. */
import * as k8s from "@pulumi/kubernetes";
import { ClusterAddons } from "../components/addons";
import { BffService } from "../components/bff-service";
import { LoadedConfig } from "../components/config";
import { DeliveryTargets } from "../components/delivery";
import { HOST_ROUTES_APP, HostRoutes } from "../components/routing";
import { createIngressPolicies, createNamespace } from "./namespaces";
import { PlatformLayer } from "./platform";

export interface AppLayer {
    namespaces: k8s.core.v1.Namespace[];
    services: BffService[];
    delivery: DeliveryTargets;
}

/**
 * `addons`: the services' Rollouts, VirtualServices and DestinationRules wait for Istio and Argo
 * Rollouts (their CRDs), the root Application for Argo CD and its namespace. `platform`: the services
 * with `image: ecr` resolved, and where and as whom their upload Jobs write static files.
 */
export function createAppLayer(
    { config }: LoadedConfig,
    clusterProvider: k8s.Provider,
    addons: ClusterAddons,
    platform: PlatformLayer,
): AppLayer {
    const namespaceNames = [config.appNamespace, ...new Set(config.gateways.map((g) => g.namespace))];
    // App pods get the istio-proxy sidecar; gateways inject their own template.
    const namespaces = namespaceNames.map((name) =>
        createNamespace(name, clusterProvider, name === config.appNamespace ? "enabled" : undefined),
    );
    const appNamespace = namespaces[0];
    createIngressPolicies(config, clusterProvider, namespaces);
    const argocdNamespace = addons.namespaces.argocd;
    const delivery = new DeliveryTargets(
        "delivery",
        { config, clusterProvider },
        { dependsOn: [...addons.releasesOf("argocd"), ...(argocdNamespace === undefined ? [] : [argocdNamespace])] },
    );
    const meshAndRollouts = addons.releasesOf("istio", "argoRollouts");
    const services = platform.services.map(
        (service) =>
            new BffService(
                service.name,
                {
                    service,
                    environment: config.environment,
                    namespace: config.appNamespace,
                    services: platform.services,
                    timeZone: config.timeZone,
                    staticUpload: platform.staticUpload,
                    uploadDependsOn: [platform.uploadIdentities.get(service.name)].filter((r) => r !== undefined),
                },
                { provider: delivery.providerFor(service.name), dependsOn: [appNamespace, ...meshAndRollouts] },
            ),
    );
    new HostRoutes(
        HOST_ROUTES_APP,
        { config },
        { provider: delivery.providerFor(HOST_ROUTES_APP), dependsOn: [appNamespace, ...addons.releasesOf("istio")] },
    );
    return { namespaces, services, delivery };
}
