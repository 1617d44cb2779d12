import * as pulumi from "@pulumi/pulumi";
import assert from "node:assert/strict";
import {
    addResources,
    assertName,
    inheritedDependsOn,
    istioProxyAnnotations,
    canonicalJson,
    checkLocalLimit,
    checkMemoryQuantity,
    checkName,
    checkQuantity,
    childName,
    contentHash,
    describeCpu,
    describeMemory,
    desiredReplicas,
    formatCpu,
    formatMemory,
    globalLimitCeiling,
    instanceCapacity,
    maxRpsWithoutScaleOut,
    parseCpuMillis,
    parseMemoryBytes,
    parseResources,
    podCpuAtHpaTarget,
    recommendedLabels,
    scaleResources,
    staticUploadJobName,
    versionNamePart,
    selectorLabels,
} from "../components/shared";

describe("names", () => {
    it("accepts a DNS-1123 label of exactly 63 characters and rejects 64", () => {
        assert.equal(checkName("dns1123Label", "a".repeat(63)), undefined);
        assert.match(checkName("dns1123Label", "a".repeat(64)) ?? "", /64 characters long, more than the limit of 63/);
    });

    it("rejects upper case, underscores and leading or trailing dashes in labels", () => {
        for (const bad of ["PC-web", "pc_web", "-pc", "pc-", "pc.web", ""]) {
            assert.notEqual(checkName("dns1123Label", bad), undefined, bad);
        }
    });

    it("limits CronJob names to 52 characters, as the controller appends a suffix", () => {
        assert.equal(checkName("cronJob", "a".repeat(52)), undefined);
        assert.match(checkName("cronJob", "a".repeat(53)) ?? "", /limit of 52/);
    });

    it("allows dots in subdomains up to 253 characters", () => {
        assert.equal(checkName("dns1123Subdomain", "pc.example.com"), undefined);
        assert.equal(checkName("dns1123Subdomain", `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`), undefined);
        assert.match(checkName("dns1123Subdomain", "a".repeat(254)) ?? "", /limit of 253/);
        assert.notEqual(checkName("dns1123Subdomain", "pc..example.com"), undefined);
    });

    it("accepts label values with upper case, dots and underscores, and the empty value", () => {
        assert.equal(checkName("labelValue", "2.15.0-rc.1"), undefined);
        assert.equal(checkName("labelValue", "Release_1"), undefined);
        assert.equal(checkName("labelValue", ""), undefined);
        assert.notEqual(checkName("labelValue", "v1+build"), undefined);
        assert.notEqual(checkName("labelValue", "x".repeat(64)), undefined);
    });

    it("throws at generation when a derived name grows past the limit", () => {
        assert.equal(childName("canary Service", "pc-web", "canary"), "pc-web-canary");
        assert.throws(() => childName("canary Service", "a".repeat(60), "canary"), /canary Service: .* more than the limit of 63/);
        assert.throws(() => assertName("dns1123Label", "Bad", "Service name"), /Service name: "Bad"/);
    });
});

describe("labels", () => {
    const identity = { name: "pc-web", version: "2.14.0", component: "bff", partOf: "frontend" };

    it("sets every recommended label plus app and version for Istio", () => {
        assert.deepEqual(recommendedLabels(identity), {
            app: "pc-web",
            "app.kubernetes.io/component": "bff",
            "app.kubernetes.io/instance": "pc-web",
            "app.kubernetes.io/managed-by": "pulumi",
            "app.kubernetes.io/name": "pc-web",
            "app.kubernetes.io/part-of": "frontend",
            "app.kubernetes.io/version": "2.14.0",
            version: "2.14.0",
        });
    });

    it("keeps selectors free of the version, so a version bump never touches an immutable selector", () => {
        const selector = selectorLabels(identity);
        assert.deepEqual(selector, { "app.kubernetes.io/name": "pc-web", "app.kubernetes.io/instance": "pc-web" });
        const labels = recommendedLabels(identity);
        for (const [key, value] of Object.entries(selector)) {
            assert.equal(labels[key], value, `pod label ${key} matches the selector`);
        }
    });

    it("rejects a label value Kubernetes would refuse", () => {
        assert.throws(() => recommendedLabels({ ...identity, version: "1.0.0+build.5" }), /label app.kubernetes.io\/version/);
    });
});

describe("names: messages and derived parts", () => {
    it("says an empty name is not allowed, with what is allowed and the limit", () => {
        assert.equal(
            checkName("dns1123Label", ""),
            "must not be empty (allowed: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)",
        );
        // A label value may be empty.
        assert.equal(checkName("labelValue", ""), undefined);
    });

    it("lists every problem of a name in one sentence", () => {
        assert.equal(
            checkName("dns1123Label", `${"A".repeat(64)}`),
            `"${"A".repeat(64)}" is 64 characters long, more than the limit of 63 and has characters or a shape Kubernetes rejects (allowed: lowercase letters, digits and '-', starting and ending with a letter or digit)`,
        );
    });

    it("throws InvalidNameError naming the object a derived name was for", () => {
        assert.throws(() => assertName("dns1123Label", "Pc-web", "Service of pc-web"), {
            name: "InvalidNameError",
            message: `Service of pc-web: "Pc-web" has characters or a shape Kubernetes rejects (allowed: lowercase letters, digits and '-', starting and ending with a letter or digit)`,
        });
    });

    it("joins child name parts with '-', skipping missing and empty ones", () => {
        assert.equal(childName("canary Service", "pc-web", undefined, "", "canary"), "pc-web-canary");
        assert.throws(() => childName("x", "a".repeat(60), "canary"), /^InvalidNameError: x: "a{60}-canary" is 67 characters long/);
    });

    it("turns a version into a name part: one '-' per run of rejected characters, none at either end", () => {
        assert.equal(versionNamePart("2.15.0-RC.1+build_7"), "2-15-0-rc-1-build-7");
        assert.equal(versionNamePart("..v1..2__"), "v1-2");
        assert.equal(staticUploadJobName("pc-web", "v2.0.0"), "pc-web-static-upload-v2-0-0");
    });
});

describe("content hash", () => {
    it("is the sha256 of canonical JSON, independent of key order", () => {
        assert.equal(contentHash({ b: 1, a: { d: 2, c: 3 } }), contentHash({ a: { c: 3, d: 2 }, b: 1 }));
        assert.equal(canonicalJson({ b: 1, a: [2, 1] }), '{"a":[2,1],"b":1}');
        assert.match(contentHash("x"), /^[0-9a-f]{64}$/);
        // sha256 of the JSON text "x" (three bytes, quotes included), computed with Python's hashlib.
        assert.equal(contentHash("x"), "ba2df4903a2c14e86dc3bcca58911b44ac1d2514b7227bf6eb08cfb978f55a1b");
    });

    it("hashes null values and keeps arrays in their order", () => {
        assert.equal(canonicalJson({ b: null, a: [{ d: 1, c: 2 }, 3] }), '{"a":[{"c":2,"d":1},3],"b":null}');
        assert.notEqual(contentHash([1, 2]), contentHash([2, 1]));
    });

    it("changes when any value changes", () => {
        assert.notEqual(contentHash({ RELEASE_ENV: "dev" }), contentHash({ RELEASE_ENV: "qa" }));
    });
});

describe("quantities", () => {
    it("parses CPU exactly into millicores", () => {
        assert.equal(parseCpuMillis("500m"), 500);
        assert.equal(parseCpuMillis("1"), 1000);
        assert.equal(parseCpuMillis("0.1"), 100);
        assert.equal(parseCpuMillis("1.5"), 1500);
        assert.equal(parseCpuMillis("2e3"), 2_000_000);
        assert.equal(parseCpuMillis("1e-3"), 1);
        // An exponent and a suffix together is not a quantity.
        assert.notEqual(checkQuantity("2e3m"), undefined);
        // Kubernetes rounds CPU up to the millicore.
        assert.equal(parseCpuMillis("100u"), 1);
    });

    it("parses memory into bytes with binary and decimal suffixes", () => {
        assert.equal(parseMemoryBytes("128Mi"), 128 * 2 ** 20);
        assert.equal(parseMemoryBytes("1Gi"), 2 ** 30);
        assert.equal(parseMemoryBytes("1G"), 1e9);
        assert.equal(parseMemoryBytes("1.5Gi"), 1.5 * 2 ** 30);
        assert.equal(parseMemoryBytes("512"), 512);
    });

    it("sums without floating-point drift", () => {
        const total = ["0.1", "0.2", "100m"].map(parseCpuMillis).reduce((a, b) => a + b, 0);
        assert.equal(total, 400);
    });

    it("formats canonical quantities", () => {
        assert.equal(formatCpu(2000), "2");
        assert.equal(formatCpu(1500), "1500m");
        assert.equal(formatMemory(1536 * 2 ** 20), "1536Mi");
        assert.equal(formatMemory(2 * 2 ** 30), "2Gi");
        assert.equal(formatMemory(1000), "1000");
    });

    it("rejects what is not a quantity, with examples", () => {
        for (const bad of ["lots", "1 Gi", "1gb", "", "m"]) {
            assert.match(checkQuantity(bad) ?? "", /is not a Kubernetes quantity \(examples:/, bad);
        }
        assert.throws(() => parseCpuMillis("lots"), {
            name: "QuantityError",
            message: '"lots" is not a Kubernetes quantity (examples: 250m, 1, 1.5, 512Mi, 2Gi, 1G)',
        });
    });

    it("reads a quantity with surrounding spaces (a YAML scalar like ' 250m') the way the API server does", () => {
        // k8s.io/apimachinery pkg/api/resource/quantity.go, Quantity.UnmarshalJSON:
        // ParseQuantity(strings.TrimSpace(string(value))).
        assert.equal(checkQuantity(" 250m "), undefined);
        assert.equal(parseCpuMillis(" 250m "), 250);
        assert.equal(parseMemoryBytes("\t1Gi "), 2 ** 30);
    });

    it("parses a leading decimal point and a sign", () => {
        assert.equal(parseCpuMillis(".5"), 500);
        assert.equal(parseMemoryBytes(".5Ki"), 512);
        assert.equal(parseCpuMillis("-500m"), -500);
        assert.equal(parseCpuMillis("+2"), 2000);
    });

    it("rejects a memory quantity that is not a whole number of bytes, and names the likely slip", () => {
        assert.equal(
            checkMemoryQuantity("512m"),
            '"512m" is not a whole number of bytes (the suffix m means thousandths; did you mean "512Mi"?; e.g. 512Mi, 1Gi)',
        );
        assert.equal(checkMemoryQuantity("0.5"), '"0.5" is not a whole number of bytes (memory is counted in bytes; e.g. 512Mi, 1Gi)');
        assert.equal(checkMemoryQuantity("1000m"), undefined);
        assert.equal(checkMemoryQuantity("1.5Ki"), undefined);
        assert.match(checkMemoryQuantity("1 Gi") ?? "", /is not a Kubernetes quantity/);
    });

    it("formats memory with the largest binary suffix that divides it, every suffix from Ki to Ei", () => {
        assert.equal(formatMemory(0), "0");
        assert.equal(formatMemory(1024), "1Ki");
        assert.equal(formatMemory(3 * 2 ** 20), "3Mi");
        assert.equal(formatMemory(2 ** 40), "1Ti");
        assert.equal(formatMemory(2 ** 50), "1Pi");
        assert.equal(formatMemory(2 ** 60), "1Ei");
        assert.equal(formatMemory(1536), "1536");
    });

    it("describes CPU and memory for the report in cores and GiB/MiB", () => {
        assert.equal(describeCpu(2000), "2 cores");
        assert.equal(describeCpu(2500), "2.5 cores");
        assert.equal(describeCpu(1250), "1.250 cores");
        assert.equal(describeMemory(2 ** 30), "1.00 GiB");
        assert.equal(describeMemory(1.5 * 2 ** 30), "1.50 GiB");
        assert.equal(describeMemory(512 * 2 ** 20), "512 MiB");
    });

    it("adds and scales pod resources exactly", () => {
        const pod = parseResources({ cpu: "600m", memory: "640Mi" });
        assert.deepEqual(pod, { cpuMillis: 600, memoryBytes: 640 * 2 ** 20 });
        assert.deepEqual(addResources(pod, { cpuMillis: 100, memoryBytes: 2 ** 20 }), { cpuMillis: 700, memoryBytes: 641 * 2 ** 20 });
        assert.deepEqual(addResources(), { cpuMillis: 0, memoryBytes: 0 });
        assert.deepEqual(scaleResources(pod, 3), { cpuMillis: 1800, memoryBytes: 1920 * 2 ** 20 });
        assert.deepEqual(parseResources(undefined), { cpuMillis: 0, memoryBytes: 0 });
        assert.deepEqual(parseResources({ memory: "1Ki" }), { cpuMillis: 0, memoryBytes: 1024 });
    });
});

describe("capacity formulas (docs/design.md §5)", () => {
    it("max rps without scale-out = total requests.cpu / per-pod requests.cpu × trigger rps", () => {
        // 20 pods of 600m (app 500m + istio-proxy 100m) at 8 rps each when the HPA triggers.
        assert.equal(maxRpsWithoutScaleOut({ totalCpuMillis: 12000, perPodCpuMillis: 600, triggerRpsPerPod: 8 }), 160);
        // A partial pod does not count.
        assert.equal(maxRpsWithoutScaleOut({ totalCpuMillis: 12500, perPodCpuMillis: 600, triggerRpsPerPod: 8 }), 160);
        assert.throws(() => maxRpsWithoutScaleOut({ totalCpuMillis: 1, perPodCpuMillis: 0, triggerRpsPerPod: 1 }), {
            name: "RangeError",
            message: "per-pod requests.cpu must be positive",
        });
    });

    it("caps the global limit at the smaller of BFF and backend capacity", () => {
        assert.equal(globalLimitCeiling(800, 450), 450);
        assert.equal(globalLimitCeiling(300, 450), 300);
        assert.equal(globalLimitCeiling(300), 300);
    });

    it("requires the local limit between the HPA trigger and the pod performance limit", () => {
        assert.deepEqual(checkLocalLimit({ localRps: 10, triggerRps: 8, performanceRps: 14 }), []);
        assert.match(checkLocalLimit({ localRps: 8, triggerRps: 8, performanceRps: 14 })[0], /not above the HPA trigger of 8 rps/);
        assert.deepEqual(checkLocalLimit({ localRps: 14, triggerRps: 8, performanceRps: 14 }), [
            "local limit 14 rps per pod is not below the pod performance limit of 14 rps: the pod would fail before the limit protects it",
        ]);
    });

    it("counts sidecar requests in the HPA utilization basis", () => {
        // 500m app + 100m istio-proxy at 80%: the pod scales out at 480m of usage, not 400m.
        assert.equal(podCpuAtHpaTarget(600, 80), 480);
        assert.equal(desiredReplicas(10, 120, 80), 15);
    });

    it("knows the vCPU and memory of c, m and r instance types", () => {
        assert.deepEqual(instanceCapacity("c6i.4xlarge"), { cpuMillis: 16000, memoryBytes: 32 * 2 ** 30 });
        assert.deepEqual(instanceCapacity("m6i.large"), { cpuMillis: 2000, memoryBytes: 8 * 2 ** 30 });
        assert.deepEqual(instanceCapacity("r7g.xlarge"), { cpuMillis: 4000, memoryBytes: 32 * 2 ** 30 });
        assert.equal(instanceCapacity("t3.medium"), undefined);
        // Generations without attribute letters, and of two digits.
        assert.deepEqual(instanceCapacity("m5.large"), { cpuMillis: 2000, memoryBytes: 8 * 2 ** 30 });
        assert.deepEqual(instanceCapacity("c7gn.xlarge"), { cpuMillis: 4000, memoryBytes: 8 * 2 ** 30 });
        assert.deepEqual(instanceCapacity("m10i.large"), { cpuMillis: 2000, memoryBytes: 8 * 2 ** 30 });
        // Whole names only.
        assert.equal(instanceCapacity("xc6i.xlarge"), undefined);
        assert.equal(instanceCapacity("c6i.xlarge-spot"), undefined);
    });
});

describe("istio-proxy resource annotations", () => {
    it("writes a CPU limit annotation only when a CPU limit is set", () => {
        const requests = { cpu: "100m", memory: "128Mi" };
        assert.deepEqual(istioProxyAnnotations({ requests, limits: { memory: "256Mi" } }), {
            "sidecar.istio.io/proxyCPU": "100m",
            "sidecar.istio.io/proxyMemory": "128Mi",
            "sidecar.istio.io/proxyMemoryLimit": "256Mi",
        });
        assert.equal(istioProxyAnnotations({ requests, limits: { cpu: "1", memory: "256Mi" } })["sidecar.istio.io/proxyCPULimit"], "1");
    });
});

describe("a component's dependsOn, passed to its children", () => {
    // What Pulumi's Resource.isInstance looks for (@pulumi/pulumi resource.js: `__pulumiResource`).
    const resource = { __pulumiResource: true } as unknown as pulumi.Resource;

    it("takes none, one resource or a list", () => {
        assert.deepEqual(inheritedDependsOn(undefined), []);
        assert.deepEqual(inheritedDependsOn({}), []);
        assert.deepEqual(inheritedDependsOn({ dependsOn: resource }), [resource]);
        assert.deepEqual(inheritedDependsOn({ dependsOn: [resource] }), [resource]);
    });

    it("refuses an output of resources, which children could not wait on", () => {
        assert.throws(() => inheritedDependsOn({ dependsOn: pulumi.output([resource]) as any }), {
            message: "dependsOn of a component must be a resource or a list of resources",
        });
    });
});
