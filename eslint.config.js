// Flat config shared by every workspace: type-aware typescript-eslint rules on sources and tests.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**', 'bench/results/**', '.docs-check/**', '.docs-run/**', '.packs/**', 'docs/api/**'] },
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Numbers and pids in template strings are the common case in messages and reports.
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        {
          allowNumber: true,
          allowBoolean: true,
          // Pids and refs print as <node.id.incarnation> and #Ref<…>.
          allow: [
            { from: 'file', name: ['Pid', 'Ref'] },
            { from: 'package', package: '@fdn/actors', name: ['Pid', 'Ref'] },
            { from: 'lib', name: ['Error'] },
          ],
        },
      ],
      // Process bodies are async functions handed to the runtime on purpose.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      // Exit reasons and messages are arbitrary terms, as in Erlang.
      '@typescript-eslint/only-throw-error': 'off',
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
      // `x as T` after a check we know holds is clearer than `x!` (which no-non-null-assertion forbids).
      '@typescript-eslint/non-nullable-type-assertion-style': 'off',
    },
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },
  {
    // The observer page's script runs in the browser.
    files: ['packages/cli/observer/**/*.js'],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ['**/test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
