/**
 * Argo CD (argo-helm `charts/argo-cd`): syncs the manifests this program renders. The team
 * repository's read credentials come from the stack's secret config and go into a Secret labelled
 * `argocd.argoproj.io/secret-type: repository` (Argo CD's declarative repository setup,
 * https://argo-cd.readthedocs.io/en/stable/operator-manual/declarative-setup/#repositories): a
 * Pulumi secret all the way, never a value in a rendered file.
 * Value keys from the chart's values.yaml: `global.nodeSelector`, `configs.cm` (argocd-cm), `dex.enabled`, and `resources`
 * per component (`controller`, `repoServer`, `server`, `redis`, `applicationSet`, `notifications`).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ADDON_SECRETS, DEFAULTS } from "../config";
import { recommendedLabels } from "../shared";
import { AddonModule, addonNodeSelector, resources, workload } from "./contract";

/**
 * Health of Applications, which Argo CD stopped assessing in 1.8: without it, sync waves between
 * the child Applications of `frontend-apps` do not wait for each other. The check Argo CD's
 * upgrade notes give (https://argo-cd.readthedocs.io/en/stable/operator-manual/upgrading/1.7-1.8/).
 */
export const APPLICATION_HEALTH_KEY = "resource.customizations.health.argoproj.io_Application";
export const APPLICATION_HEALTH_LUA = [
    "hs = {}",
    'hs.status = "Progressing"',
    'hs.message = ""',
    "if obj.status ~= nil then",
    "  if obj.status.health ~= nil then",
    "    hs.status = obj.status.health.status",
    "    if obj.status.health.message ~= nil then",
    "      hs.message = obj.status.health.message",
    "    end",
    "  end",
    "end",
    "return hs",
    "",
].join("\n");

/** Name of the repository Secret Argo CD reads. */
export const ARGOCD_REPOSITORY_SECRET = ADDON_SECRETS.argocdRepository;

type Resources = { resources: ReturnType<typeof resources> };

export interface ArgoCdValues {
    global: { nodeSelector: Record<string, string> };
    configs: { cm: Record<string, string> };
    dex: { enabled: false };
    controller: Resources;
    repoServer: Resources;
    server: Resources;
    redis: Resources;
    applicationSet: Resources;
    notifications: Resources;
}

export const argocd: AddonModule = {
    name: "argocd",
    dependsOn: [],
    provides: ["argoproj.io/Application", "argoproj.io/AppProject", "argoproj.io/ApplicationSet"],
    schedule: "addonNodes",
    values(ctx) {
        const r = (name: string) => ({ resources: resources(workload("argocd", name)) });
        const values: ArgoCdValues = {
            // The chart's default selector (kubernetes.io/os: linux) is kept beside ours.
            global: { nodeSelector: { "kubernetes.io/os": "linux", ...addonNodeSelector(ctx) } },
            configs: { cm: { [APPLICATION_HEALTH_KEY]: APPLICATION_HEALTH_LUA } },
            // Users sign in with the admin account or the SSO the platform team configures; no bundled Dex.
            dex: { enabled: false },
            controller: r("application-controller"),
            repoServer: r("repo-server"),
            server: r("server"),
            redis: r("redis"),
            applicationSet: r("applicationset-controller"),
            notifications: r("notifications-controller"),
        };
        return [values];
    },
    objects(ctx, opts) {
        const credentials = ctx.config.addons.argocd.repoCredentials;
        if (credentials === undefined) {
            return [];
        }
        return [
            new k8s.core.v1.Secret(
                ARGOCD_REPOSITORY_SECRET,
                {
                    metadata: {
                        name: ARGOCD_REPOSITORY_SECRET,
                        namespace: ctx.namespace,
                        labels: {
                            ...recommendedLabels({ name: "argocd", component: "repository", partOf: DEFAULTS.partOf }),
                            "argocd.argoproj.io/secret-type": "repository",
                        },
                    },
                    type: "Opaque",
                    stringData: {
                        type: "git",
                        url: ctx.config.delivery.repoURL,
                        username: credentials.username,
                        password: pulumi.secret(credentials.password),
                    },
                },
                opts,
            ),
        ];
    },
};
