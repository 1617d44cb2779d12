// Lint rules: typescript-eslint's recommended set with type information, plus Pulumi's rules
// against Outputs in template literals (use pulumi.interpolate).
const { defineConfig } = require("eslint/config");
const tseslint = require("typescript-eslint");
const pulumi = require("@pulumi/eslint-plugin");

module.exports = defineConfig(
    {
        ignores: [
            "node_modules/",
            "out/",
            "bin/",
            "kubernetes/",
            ".tools/",
            "reports/",
            ".stryker-tmp/",
            "eslint.config.js",
            ".dependency-cruiser.js",
        ],
    },
    ...tseslint.configs.recommended,
    {
        files: ["**/*.ts"],
        languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: __dirname } },
        plugins: { "@pulumi": pulumi },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
            "@typescript-eslint/no-floating-promises": "error",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
            "@typescript-eslint/no-require-imports": "off",
            eqeqeq: "error",
        },
    },
    {
        // CommonJS files node runs as they are (the TypeScript loader, the benchmark's cdk8s anchor).
        files: ["**/*.js"],
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },
    {
        // Tests poke at rendered objects whose shapes are asserted, not typed.
        files: ["tests/**/*.ts"],
        rules: { "@typescript-eslint/no-explicit-any": "off" },
    },
);
