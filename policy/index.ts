/**
 * The platform's CrossGuard policy pack: `pulumi preview --policy-pack policy` (or `pulumi up`)
 * runs it against the resources of the stack. The rules are in rules.ts; `npm test` runs the same
 * rules over every committed stack.
 */
import { PolicyPack } from "@pulumi/policy";
import { packPolicies, POLICY_PACK_NAME } from "./pack";

new PolicyPack(POLICY_PACK_NAME, { policies: packPolicies() });
