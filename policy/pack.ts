/**
 * The rules of rules.ts as CrossGuard policies: one resource validation policy per resource rule,
 * one stack validation policy per stack rule, all mandatory. Kept apart from index.ts (which
 * starts the pack's server) so the tests can call the very policies the pack serves.
 */
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { CheckedResource, RESOURCE_RULES, STACK_RULES } from "./rules";

/** Pack name, as `pulumi preview --policy-pack policy` reports it. */
export const POLICY_PACK_NAME = "bff-platform";

type ResourceArgs = Pick<PolicyResource, "type" | "name" | "props" | "opts">;

function checked(args: ResourceArgs): CheckedResource {
    return { type: args.type, name: args.name, inputs: args.props, protect: args.opts.protect };
}

export function packPolicies(): (ResourceValidationPolicy | StackValidationPolicy)[] {
    return [
        ...RESOURCE_RULES.map((rule): ResourceValidationPolicy => ({
            name: rule.name,
            description: rule.description,
            enforcementLevel: "mandatory",
            validateResource: (args, reportViolation) => {
                for (const message of rule.check(checked(args))) {
                    reportViolation(message);
                }
            },
        })),
        ...STACK_RULES.map((rule): StackValidationPolicy => ({
            name: rule.name,
            description: rule.description,
            enforcementLevel: "mandatory",
            validateStack: (args, reportViolation) => {
                const byResource = new Map(args.resources.map((r) => [checked(r), r.urn]));
                for (const violation of rule.check([...byResource.keys()])) {
                    reportViolation(violation.message, byResource.get(violation.resource));
                }
            },
        })),
    ];
}
