/**
 * istio-proxy sizing through pod annotations: the injection template reads them, and so do the
 * scheduler's and the HPA's arithmetic once injected (docs/design.md §5), and the resource report.
 */

export const ISTIO_PROXY_ANNOTATIONS = {
    cpu: "sidecar.istio.io/proxyCPU",
    cpuLimit: "sidecar.istio.io/proxyCPULimit",
    memory: "sidecar.istio.io/proxyMemory",
    memoryLimit: "sidecar.istio.io/proxyMemoryLimit",
} as const;

/** The annotations of istio-proxy's requests and limits; no CPU limit when none is given. */
export function istioProxyAnnotations(resources: {
    readonly requests: { readonly cpu: string; readonly memory: string };
    readonly limits: { readonly cpu?: string; readonly memory: string };
}): Record<string, string> {
    return {
        [ISTIO_PROXY_ANNOTATIONS.cpu]: resources.requests.cpu,
        [ISTIO_PROXY_ANNOTATIONS.memory]: resources.requests.memory,
        ...(resources.limits.cpu === undefined ? {} : { [ISTIO_PROXY_ANNOTATIONS.cpuLimit]: resources.limits.cpu }),
        [ISTIO_PROXY_ANNOTATIONS.memoryLimit]: resources.limits.memory,
    };
}
