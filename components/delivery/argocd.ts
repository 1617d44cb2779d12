/**
 * Argo CD app-of-apps (docs/design.md §2). `frontend-apps` (applied to the cluster) syncs the
 * directory of child Applications, one per app, each syncing `<manifestsPath>/<environment>/<app>`
 * into the app namespace.
 *
 * Facts this relies on: sync waves are quoted integers, lower first, and Argo CD waits for health
 * between waves; since Argo CD 1.8 an Application's health is not assessed unless argocd-cm has the
 * `resource.customizations.health.argoproj.io_Application` entry (the shared Argo CD's setting:
 * without it waves between child Applications do not wait). Argo Rollouts moves the weights of
 * VirtualService routes during a canary: a child Application ignores exactly those weights (the
 * routes each app names in `rolloutRoutes`) and does not reset them on sync
 * (`RespectIgnoreDifferences`); every other weight, such as a migration's `legacyWeight`, is synced.
 */
import { DEFAULTS, PLATFORM_APPS, StackConfig } from "../config";
import { KubeObject, recommendedLabels, withoutTrackingLabel } from "../shared";

/** App directory holding the child Applications (synced by `frontend-apps`). */
export const APPLICATIONS_APP = PLATFORM_APPS.applications;

/** The team's AppProject, named like the `app.kubernetes.io/part-of` of every object (`frontend`). */
export const APP_PROJECT = DEFAULTS.partOf;

/** Notification triggers every child Application subscribes its Slack channel to. */
export const NOTIFICATION_TRIGGERS = ["on-deployed", "on-health-degraded", "on-sync-failed"] as const;

/** One app to deliver: its name (also its directory), the namespace it deploys to and its sync wave. */
export interface DeliveredApp {
    name: string;
    namespace: string;
    syncWave: number;
    /**
     * Routes of the app's VirtualServices whose weights Argo Rollouts owns (the primary route of a
     * canary, preview routes to a canary). Default: none.
     */
    rolloutRoutes?: { virtualService: string; route: string }[];
}

/**
 * A failed sync (a PreSync Job that fails once, a CRD not yet served, a webhook not yet ready) is
 * retried with backoff instead of waiting for the next commit. Argo CD (docs/operator-manual/
 * application.yaml): `limit` retries, `backoff.duration` doubled by `factor` up to `maxDuration`.
 */
export const SYNC_RETRY = { limit: 5, backoff: { duration: "10s", factor: 2, maxDuration: "3m" } } as const;

/**
 * `ignoreDifferences` for the weights Argo Rollouts moves: one entry per VirtualService, one jq
 * path per route. Argo CD's diffing docs (docs/user-guide/diffing.md) show the form
 * `.spec.template.spec.initContainers[] | select(.name == "...")`; `name` narrows the entry to one
 * VirtualService.
 */
export function rolloutWeightDifferences(routes: { virtualService: string; route: string }[]): object[] {
    const byVirtualService = new Map<string, string[]>();
    for (const { virtualService, route } of routes) {
        byVirtualService.set(virtualService, [...(byVirtualService.get(virtualService) ?? []), route]);
    }
    return [...byVirtualService].map(([name, names]) => ({
        group: "networking.istio.io",
        kind: "VirtualService",
        name,
        jqPathExpressions: names.map((route) => `.spec.http[] | select(.name == ${JSON.stringify(route)}) | .route[].weight`),
    }));
}

const IN_CLUSTER = "https://kubernetes.default.svc";
const FINALIZER = "resources-finalizer.argocd.argoproj.io";

function application(
    name: string,
    config: StackConfig,
    spec: object,
    annotations: Record<string, string>,
    labels = recommendedLabels({ name, component: "delivery", partOf: DEFAULTS.partOf }),
): KubeObject {
    return {
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Application",
        metadata: {
            name,
            namespace: config.delivery.argocdNamespace,
            labels,
            annotations,
            // Deleting the Application deletes what it deployed.
            finalizers: [FINALIZER],
        },
        spec,
    };
}

/** The child Application of one app. */
export function childApplication(app: DeliveredApp, config: StackConfig): KubeObject {
    const { delivery } = config;
    const annotations: Record<string, string> = { "argocd.argoproj.io/sync-wave": String(app.syncWave) };
    if (delivery.slackChannel !== undefined) {
        for (const trigger of NOTIFICATION_TRIGGERS) {
            annotations[`notifications.argoproj.io/subscribe.${trigger}.slack`] = delivery.slackChannel;
        }
    }
    return application(
        app.name,
        config,
        {
            project: APP_PROJECT,
            source: {
                repoURL: delivery.repoURL,
                targetRevision: delivery.targetRevision,
                path: `${delivery.manifestsPath}/${config.environment}/${app.name}`,
                // The Kubernetes provider renders into subdirectories (1-manifest/, 0-crd/).
                directory: { recurse: true },
            },
            destination: { server: IN_CLUSTER, namespace: app.namespace },
            syncPolicy: {
                automated: { prune: true, selfHeal: true },
                syncOptions: ["RespectIgnoreDifferences=true"],
                retry: SYNC_RETRY,
            },
            // Only the weights a Rollout moves: ignoring every route's weight would also hold back a
            // changed migration legacyWeight, the documented instant rollback.
            ...(app.rolloutRoutes === undefined || app.rolloutRoutes.length === 0
                ? {}
                : { ignoreDifferences: rolloutWeightDifferences(app.rolloutRoutes) }),
        },
        annotations,
    );
}

/** `frontend-apps`: the Application of Applications, applied to the cluster. */
export function rootApplication(config: StackConfig): KubeObject {
    const { delivery } = config;
    return application(
        DEFAULTS.rootApplication,
        config,
        {
            project: APP_PROJECT,
            source: {
                repoURL: delivery.repoURL,
                targetRevision: delivery.targetRevision,
                path: `${delivery.manifestsPath}/${config.environment}/${APPLICATIONS_APP}`,
                directory: { recurse: true },
            },
            destination: { server: IN_CLUSTER, namespace: delivery.argocdNamespace },
            syncPolicy: { automated: { prune: true, selfHeal: true }, retry: SYNC_RETRY },
        },
        {},
        // Applied by Pulumi, in no app's directory: without Argo CD's tracking label, which would
        // make it a resource of the app of the same name (itself) that git does not hold.
        withoutTrackingLabel(recommendedLabels({ name: DEFAULTS.rootApplication, component: "delivery", partOf: DEFAULTS.partOf })),
    );
}

/**
 * The team's AppProject, applied to the cluster before any Application that names it: sources
 * limited to the team's repository, destinations to the namespaces the apps deploy to (and the
 * Argo CD namespace, where `frontend-apps` writes the child Applications), and no cluster-scoped
 * kind at all. An Argo CD project denies every cluster-scoped kind unless
 * `clusterResourceWhitelist` lists it (https://argo-cd.readthedocs.io/en/stable/user-guide/projects/):
 * the empty list says so explicitly. Namespaces and CRDs are Pulumi's, applied outside Argo CD.
 */
export function appProject(apps: DeliveredApp[], config: StackConfig): KubeObject {
    const { delivery } = config;
    const namespaces = [...new Set([delivery.argocdNamespace, ...apps.map((a) => a.namespace)])].sort();
    const name = APP_PROJECT;
    return {
        apiVersion: "argoproj.io/v1alpha1",
        kind: "AppProject",
        metadata: {
            name,
            namespace: delivery.argocdNamespace,
            labels: recommendedLabels({ name, component: "delivery", partOf: DEFAULTS.partOf }),
            // The project outlives none of its Applications: Argo CD refuses to delete a project in use.
            finalizers: ["resources-finalizer.argocd.argoproj.io"],
        },
        spec: {
            sourceRepos: [delivery.repoURL],
            destinations: namespaces.map((namespace) => ({ server: IN_CLUSTER, namespace })),
            clusterResourceWhitelist: [],
        },
    };
}
