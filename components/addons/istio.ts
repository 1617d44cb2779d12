/**
 * Istio's control plane from its Helm charts (https://istio.io/latest/docs/setup/install/helm/):
 * `base` (CRDs, default-revision validation) then `istiod`, revision-pinned. The revision is the
 * minor version (`1-30`): a minor upgrade installs a second istiod beside this one (canary
 * upgrade) and moves the `default` tag; patch releases upgrade in place.
 *
 * Value keys as in Istio 1.30's charts (istio/istio `manifests/charts/istio-control/istio-discovery/values.yaml`,
 * `manifests/charts/base/values.yaml`): istiod's are top-level (`nodeSelector`, `resources`,
 * `autoscaleMin`); `revisionTags: [default]` makes this revision serve the default injection
 * webhooks, so `istio-injection=enabled` namespaces and `sidecar.istio.io/inject: "true"` gateway
 * pods are injected without a revision label; base's `defaultRevision` points validation at it.
 */
import { AddonContext, AddonModule, addonNodeSelector, resources, workload } from "./contract";
import { ADDON_DEFAULTS } from "./defaults";

/** Revision of istiod: `1.30.4` -> `1-30`. */
export function istioRevision(version: string): string {
    const [major, minor] = version.replace(/^v/, "").split(".");
    return `${major}-${minor}`;
}

export interface IstioBaseValues {
    defaultRevision: string;
}

export interface IstiodValues {
    revision: string;
    revisionTags: string[];
    autoscaleMin: number;
    nodeSelector: Record<string, string>;
    resources: ReturnType<typeof resources>;
}

function istioVersion(ctx: AddonContext): string {
    return ctx.config.addons.istio.chartVersion ?? ADDON_DEFAULTS.istio.charts[1].version;
}

export const istio: AddonModule = {
    name: "istio",
    dependsOn: [],
    provides: ["networking.istio.io/*", "security.istio.io/*", "telemetry.istio.io/*", "extensions.istio.io/*"],
    schedule: "addonNodes",
    values(ctx) {
        const revision = istioRevision(istioVersion(ctx));
        const istiod = workload("istio", "istiod");
        const base: IstioBaseValues = { defaultRevision: revision };
        const control: IstiodValues = {
            revision,
            revisionTags: ["default"],
            autoscaleMin: istiod.replicas as number,
            nodeSelector: addonNodeSelector(ctx),
            resources: resources(istiod),
        };
        return [base, control];
    },
};
