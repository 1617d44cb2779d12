/** App layer: namespaces, delivery targets, one BffService per configured service and the host routes. */
import * as k8s from "@pulumi/kubernetes";
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

export function createAppLayer({ config }: LoadedConfig, clusterProvider: k8s.Provider, platform: PlatformLayer): AppLayer {
    const namespaceNames = [config.appNamespace, ...new Set(config.gateways.map((g) => g.namespace))];
    // App pods get the istio-proxy sidecar; gateways inject their own template.
    const namespaces = namespaceNames.map((name) =>
        createNamespace(name, clusterProvider, name === config.appNamespace ? "enabled" : undefined),
    );
    const appNamespace = namespaces[0];
    createIngressPolicies(config, clusterProvider, namespaces);
    const delivery = new DeliveryTargets("delivery", { config, clusterProvider });
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
                { provider: delivery.providerFor(service.name), dependsOn: [appNamespace] },
            ),
    );
    new HostRoutes(HOST_ROUTES_APP, { config }, { provider: delivery.providerFor(HOST_ROUTES_APP), dependsOn: [appNamespace] });
    return { namespaces, services, delivery };
}
