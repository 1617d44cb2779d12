/**
 * Every long-running container of every committed stack has a liveness probe: a process that hangs
 * without exiting is restarted by the kubelet instead of holding its pod's share of traffic.
 * istio-proxy is the exception by construction: the gateway declares it as `image: auto` and
 * istiod's injection template supplies the rest of the container.
 */
import assert from "node:assert/strict";
import { kubernetesObjects } from "../cli/render";
import { runStack, STACKS } from "./support/program";

const LONG_RUNNING = new Set(["Deployment", "Rollout", "StatefulSet", "DaemonSet"]);

describe("liveness of every long-running container", () => {
    for (const stack of STACKS) {
        it(`${stack}: every container of every Deployment, Rollout, StatefulSet and DaemonSet has a liveness probe`, async () => {
            const objects = kubernetesObjects((await runStack(stack)).resources);
            const checked: string[] = [];
            for (const object of objects.filter((o) => LONG_RUNNING.has(o.kind))) {
                const spec = (object.spec as any).template.spec;
                const sidecars = (spec.initContainers ?? []).filter((c: any) => c.restartPolicy === "Always");
                for (const container of [...spec.containers, ...sidecars]) {
                    if (container.name === "istio-proxy" && container.image === "auto") {
                        continue;
                    }
                    const at = `${object.kind} ${object.metadata.name}: ${container.name}`;
                    assert.ok(container.livenessProbe !== undefined, `${at} has no livenessProbe`);
                    checked.push(at);
                }
            }
            // The nginx limiter sidecars (pc-web has one in both stacks) are among them.
            assert.ok(checked.includes("Rollout pc-web: rate-limiter"), checked.join("\n"));
        });
    }
});
