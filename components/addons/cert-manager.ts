/**
 * cert-manager (https://cert-manager.io/docs/installation/helm/): the gateways' certificates.
 * Its identity may change only `_acme-challenge` TXT records of the hosted zones the gateways'
 * ACME issuers name (see iam.ts); a stack without a Route 53 issuer gets no AWS identity.
 * Value keys from the chart's values.yaml (cert-manager/cert-manager `deploy/charts/cert-manager/values.yaml`):
 * `crds.{enabled,keep}`, `serviceAccount.name`, `nodeSelector`, `resources`, and the same under
 * `webhook`, `cainjector`, `startupapicheck`.
 */
import { StackConfig } from "../config";
import { AddonModule, addonNodeSelector, resources, workload } from "./contract";
import { certManagerPolicy } from "./iam";

interface Placement {
    nodeSelector: Record<string, string>;
    resources?: ReturnType<typeof resources>;
}

export interface CertManagerValues extends Placement {
    crds: { enabled: true; keep: true };
    serviceAccount: { name: string };
    webhook: Placement;
    cainjector: Placement;
    startupapicheck: Placement;
}

/** Hosted zones of the gateways' ACME issuers that solve DNS-01 through Route 53. */
function route53Zones(config: StackConfig): string[] {
    return config.gateways.flatMap((g) => {
        const zone = g.tls?.issuer.acme?.route53.hostedZoneId;
        return zone === undefined ? [] : [zone];
    });
}

/** ServiceAccount of the controller, the one that solves DNS-01 challenges. */
export const CERT_MANAGER_SERVICE_ACCOUNT = "cert-manager";

export const certManager: AddonModule = {
    name: "certManager",
    dependsOn: [],
    provides: ["cert-manager.io/*", "acme.cert-manager.io/*"],
    schedule: "addonNodes",
    values(ctx) {
        const nodeSelector = addonNodeSelector(ctx);
        const values: CertManagerValues = {
            crds: { enabled: true, keep: true },
            serviceAccount: { name: CERT_MANAGER_SERVICE_ACCOUNT },
            nodeSelector,
            resources: resources(workload("certManager", "cert-manager")),
            webhook: { nodeSelector, resources: resources(workload("certManager", "cert-manager-webhook")) },
            cainjector: { nodeSelector, resources: resources(workload("certManager", "cert-manager-cainjector")) },
            startupapicheck: { nodeSelector },
        };
        return [values];
    },
    identity: {
        serviceAccount: CERT_MANAGER_SERVICE_ACCOUNT,
        required: (ctx) => route53Zones(ctx.config).length > 0,
        policy: (ctx) => certManagerPolicy(route53Zones(ctx.config)),
    },
};
