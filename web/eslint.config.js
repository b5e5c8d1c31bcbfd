import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', '../src/embedding_projector/static/', '../benchmarks/web/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  ...svelte.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.browser },
      parserOptions: {
        projectService: { allowDefaultProject: ['*.config.js'] },
        extraFileExtensions: ['.svelte'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  {
    files: ['*.config.js', '*.config.ts'],
    languageOptions: { globals: { ...globals.node } },
  },
  { files: ['*.config.js'], ...tseslint.configs.disableTypeChecked },
  // Layers (docs/architecture.md): api and data at the bottom, then render, state, panels; a
  // module imports only from its own layer and those below it.
  layer('src/api/**', ['data', 'render', 'state', 'panels']),
  layer('src/data/**', ['render', 'state', 'panels']),
  layer('src/render/**', ['state', 'panels']),
  layer('src/state/**', ['panels']),
  {
    rules: {
      // Unused function parameters are allowed when prefixed with an underscore.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
);

/** Forbid imports from the named sibling folders of `src/` in the files matched by `files`. */
function layer(files, above) {
  const message = `layers: ${files} may not import from ${above.join(', ')}`;
  const regex = `^\\.\\./(${above.join('|')})(/|$)`;
  return { files: [files], rules: { 'no-restricted-imports': ['error', { patterns: [{ regex, message }] }] } };
}
