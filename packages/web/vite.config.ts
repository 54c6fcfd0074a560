import { defineConfig } from 'vite'

// `pnpm --filter @finchat/web dev` serves the UI with hot reload and forwards the API to a
// server on :8000 (`pnpm start`); `build` writes dist/, which the gateway and `pnpm start` serve.
const api = 'http://localhost:8000'

export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  resolve: { conditions: ['@finchat/source'] },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: {
    proxy: {
      '^/(register|session|admin)': api,
      '/ws/chat': { target: api, ws: true },
    },
  },
})
