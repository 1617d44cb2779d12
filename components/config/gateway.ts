/** The `gateways` section: Istio ingress gateways and the hosts they serve (SYSTEM.md §4). */
import { z } from "zod";
import { DEFAULTS } from "./defaults";
import { checkUnique, kubeName, positiveInt, Report } from "./fields";

export const gatewaySchema = z.strictObject({
    name: kubeName("dns1123Label").default("istio-ingressgateway"),
    namespace: kubeName("dns1123Label").default(DEFAULTS.gatewayNamespace),
    /** `gatewayInjection` (current Istio) or `istioOperator` (the handbook's operator file). */
    mode: z.enum(["gatewayInjection", "istioOperator"]).default("gatewayInjection"),
    /** Names of `hosts` entries served by this gateway. */
    hosts: z.array(kubeName("dns1123Label")).min(1),
    minReplicas: positiveInt.default(2),
    maxReplicas: positiveInt.default(4),
});

export type GatewayConfig = z.output<typeof gatewaySchema>;

/** Rules across gateways and hosts. */
export function checkGateways(gateways: GatewayConfig[], hostNames: Set<string>, report: Report): void {
    checkUnique(report, gateways, "name", ["gateways"]);
    gateways.forEach((gateway, g) => {
        gateway.hosts.forEach((host, h) => {
            if (!hostNames.has(host)) {
                report(["gateways", g, "hosts", h], `"${host}" is not a name in hosts (known hosts: ${[...hostNames].join(", ")})`);
            }
        });
        if (gateway.minReplicas > gateway.maxReplicas) {
            report(["gateways", g, "minReplicas"], `${gateway.minReplicas} is above maxReplicas ${gateway.maxReplicas}`);
        }
    });
}

/**
 * Name of the Istio `Gateway` object of a host: the hostname with dots as dashes
 * (`pc.example.com` -> `pc-example-com`, as in the handbook). VirtualServices bind to it as
 * `<gateway namespace>/<name>`.
 */
export function hostGatewayName(hostname: string): string {
    return hostname.replace(/\./g, "-");
}
