/**
 * Datadog (DataDog/helm-charts `charts/datadog`): the node agent (a DaemonSet on every node,
 * gateway nodes included) and the Cluster Agent with the external metrics provider, which HPAs
 * with `external` metrics read. The API and application keys come from the stack's secret config
 * into a Secret the chart references (`datadog.apiKeyExistingSecret`, `datadog.appKeyExistingSecret`,
 * keys `api-key` and `app-key` as the chart's values.yaml documents them).
 * Value keys from the chart's values.yaml: `datadog.{clusterName,site}`, `clusterAgent.{replicas,
 * metricsProvider.enabled,nodeSelector,resources}`, `agents.{tolerations,containers.agent.resources}`.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ADDON_SECRETS, DEFAULTS } from "../config";
import { recommendedLabels } from "../shared";
import { GATEWAY_TAINT } from "../cluster";
import { AddonModule, addonNodeSelector, resources, workload } from "./contract";

export const DATADOG_KEYS_SECRET = ADDON_SECRETS.datadogKeys;

export interface DatadogValues {
    datadog: { apiKeyExistingSecret: string; appKeyExistingSecret: string; clusterName: string; site: string };
    clusterAgent: {
        replicas: number;
        metricsProvider: { enabled: true };
        nodeSelector: Record<string, string>;
        resources: ReturnType<typeof resources>;
    };
    agents: {
        tolerations: { key: string; operator: "Equal"; value: string; effect: string }[];
        containers: { agent: { resources: ReturnType<typeof resources> } };
    };
}

export const datadog: AddonModule = {
    name: "datadog",
    dependsOn: [],
    provides: ["datadoghq.com/*"],
    schedule: "everyNode",
    values(ctx) {
        const clusterAgent = workload("datadog", "datadog-cluster-agent");
        const values: DatadogValues = {
            datadog: {
                apiKeyExistingSecret: DATADOG_KEYS_SECRET,
                appKeyExistingSecret: DATADOG_KEYS_SECRET,
                clusterName: ctx.config.cluster.name,
                site: ctx.config.addons.datadog.site,
            },
            clusterAgent: {
                replicas: clusterAgent.replicas as number,
                metricsProvider: { enabled: true },
                nodeSelector: addonNodeSelector(ctx),
                resources: resources(clusterAgent),
            },
            agents: {
                // The agent runs on gateway nodes too: their metrics and logs matter most.
                tolerations: [{ key: GATEWAY_TAINT.key, operator: "Equal", value: GATEWAY_TAINT.value, effect: GATEWAY_TAINT.effect }],
                containers: { agent: { resources: resources(workload("datadog", "datadog-agent")) } },
            },
        };
        return [values];
    },
    objects(ctx, opts) {
        const { apiKey, appKey } = ctx.config.addons.datadog;
        if (apiKey === undefined || appKey === undefined) {
            // The config check refuses an enabled Datadog add-on without keys.
            throw new Error("Datadog add-on: apiKey and appKey are required");
        }
        return [
            new k8s.core.v1.Secret(
                DATADOG_KEYS_SECRET,
                {
                    metadata: {
                        name: DATADOG_KEYS_SECRET,
                        namespace: ctx.namespace,
                        labels: recommendedLabels({ name: "datadog", component: "credentials", partOf: DEFAULTS.partOf }),
                    },
                    type: "Opaque",
                    stringData: { "api-key": pulumi.secret(apiKey), "app-key": pulumi.secret(appKey) },
                },
                opts,
            ),
        ];
    },
};
