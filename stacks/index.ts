/**
 * The program: load and validate the stack configuration, then build each layer. `pulumi up`
 * runs it through `index.ts`; synth and the tests run the same function under the mock runtime.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig } from "../components/config";
import { HOST_ROUTES_APP } from "../components/routing";
import { createAddonLayer } from "./addons";
import { createAppLayer } from "./apps";
import { createBackupLayer } from "./backup";
import { createClusterLayer } from "./cluster";
import { createGatewayLayer } from "./gateway";
import { createNetworkLayer } from "./network";
import { createPlatformLayer } from "./platform";
import { createRateLimitLayer } from "./rate-limits";

export async function main() {
    // Validation first: a bad config fails here, before any resource is registered.
    const loaded = loadStackConfig();
    // Order of creation: cluster and node groups, add-ons (each after the node groups it runs on and
    // the add-ons it declares), then the layers whose objects need the add-ons' CRDs. Every layer
    // passes what it waits for as `dependsOn`, which the components hand down to each child.
    const network = createNetworkLayer(loaded);
    const cluster = createClusterLayer(loaded, network.network?.privateSubnetIds);
    const addons = createAddonLayer(loaded, cluster, network);
    const platform = await createPlatformLayer(loaded, cluster);
    const apps = createAppLayer(loaded, cluster.provider, addons, platform);
    createGatewayLayer(loaded, cluster.provider, apps.delivery, addons, apps.namespaces);
    const { config } = loaded;
    apps.delivery.deliver([
        ...config.gateways.map((g) => ({ name: g.name, namespace: g.namespace, syncWave: 0 })),
        ...config.services.map((s, i) => ({
            name: s.name,
            namespace: config.appNamespace,
            syncWave: s.syncWave,
            rolloutRoutes: apps.services[i].rendered.rolloutOwnedRoutes,
        })),
        // After every service: the host routes delegate to the services' VirtualServices.
        {
            name: HOST_ROUTES_APP,
            namespace: config.appNamespace,
            syncWave: Math.max(0, ...config.services.map((s) => s.syncWave)) + 1,
        },
    ]);
    createRateLimitLayer(loaded, cluster.provider, [...apps.namespaces, ...addons.releasesOf("istio")], network);
    createBackupLayer(loaded, cluster, addons);
    return {
        environment: loaded.config.environment,
        clusterName: cluster.clusterName,
        kubeconfig: pulumi.secret(cluster.kubeconfig),
        services: apps.services.map((s) => s.workloadName),
        ...(platform.staticAssets === undefined
            ? {}
            : {
                  staticAssetsBucket: platform.staticAssets.bucket.bucket,
                  staticAssetsDomain: platform.staticAssets.distribution.domainName,
              }),
        ...(network.network === undefined ? {} : { vpcId: network.network.vpcId }),
    };
}
