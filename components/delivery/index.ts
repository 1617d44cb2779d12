/**
 * Where Kubernetes objects go (docs/design.md §1-2). In `direct` mode Pulumi applies every object to
 * the cluster. In `argocd` mode the objects of each app are rendered into
 * `<manifestsPath>/<environment>/<app>/`, the directory Argo CD syncs, by a Kubernetes provider
 * with `renderYamlToDirectory`; cluster-scoped platform objects still go to the cluster.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { StackConfig } from "../config";
import { createKubeObject, inheritedDependsOn } from "../shared";
import { APPLICATIONS_APP, appProject, childApplication, DeliveredApp, rootApplication } from "./argocd";

export * from "./argocd";
export * from "./backup";

export interface DeliveryTargetsArgs {
    config: StackConfig;
    /** Provider of the cluster itself. */
    clusterProvider: k8s.Provider;
}

/** Directory (relative to the project) that holds the manifests of one app in `argocd` mode. */
export function appManifestDirectory(delivery: StackConfig["delivery"], environment: string, app: string): string {
    return `${delivery.manifestsPath}/${environment}/${app}`;
}

export class DeliveryTargets extends pulumi.ComponentResource {
    private readonly args: DeliveryTargetsArgs;
    private readonly renderProviders = new Map<string, k8s.Provider>();
    /** The component's `dependsOn` (Argo CD when the stack installs it), for the Applications. */
    private readonly inherited: pulumi.Input<pulumi.Resource>[];

    constructor(name: string, args: DeliveryTargetsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("bff-platform:delivery:DeliveryTargets", name, {}, opts);
        this.args = args;
        this.inherited = inheritedDependsOn(opts);
        this.registerOutputs({});
    }

    /** The provider through which the objects of `app` are delivered. */
    providerFor(app: string): k8s.Provider {
        const { config, clusterProvider } = this.args;
        const { delivery, environment } = config;
        if (delivery.mode === "direct") {
            return clusterProvider;
        }
        let provider = this.renderProviders.get(app);
        if (provider === undefined) {
            provider = new k8s.Provider(
                `render-${app}`,
                // alwaysRender: every update writes every file again, so a manifest deleted or edited
                // by hand in the repository is restored on the next `pulumi up` (the provider otherwise
                // writes only the objects whose inputs changed).
                { renderYamlToDirectory: appManifestDirectory(delivery, environment, app), alwaysRender: true },
                { parent: this },
            );
            this.renderProviders.set(app, provider);
        }
        return provider;
    }

    /**
     * In `argocd` mode, the Applications that deliver `apps`: the child Applications rendered for
     * `frontend-apps`, and `frontend-apps` itself applied to the cluster. Nothing in `direct` mode.
     */
    deliver(apps: DeliveredApp[]): void {
        const { config, clusterProvider } = this.args;
        if (config.delivery.mode !== "argocd") {
            return;
        }
        const project = createKubeObject(appProject(apps, config), { parent: this, provider: clusterProvider, dependsOn: this.inherited });
        const childProvider = this.providerFor(APPLICATIONS_APP);
        for (const app of apps) {
            createKubeObject(childApplication(app, config), { parent: this, provider: childProvider, dependsOn: this.inherited });
        }
        createKubeObject(rootApplication(config), { parent: this, provider: clusterProvider, dependsOn: [...this.inherited, project] });
    }
}
