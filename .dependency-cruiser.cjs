/**
 * The layering `pnpm lint` holds the tree to (docs/architecture.md): packages are libraries
 * under the services, applications and test tooling sit on top, and no import goes in a circle.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'packages-below-services',
      comment: 'A package is a library the services share: it never imports a service.',
      severity: 'error',
      from: { path: '^packages/' },
      to: { path: '^(services|tests|bench)/' },
    },
    {
      name: 'services-without-test-tooling',
      comment: "A service's own code never imports test support, the bench or another's tests.",
      severity: 'error',
      from: { path: '^services/[^/]+/src/' },
      to: { path: '(^(tests|bench)/|/test/)' },
    },
    {
      name: 'chat-domain-without-transport',
      comment: "Chat's rules and its events know nothing of sockets (docs/architecture.md).",
      severity: 'error',
      from: { path: '^services/chat/src/(domain|events|presence)/' },
      to: { path: '^services/chat/src/(transport|routes)/' },
    },
    {
      name: 'chat-events-stand-alone',
      comment: 'Events (streams and frames) are the bottom layer of chat: they import none above.',
      severity: 'error',
      from: { path: '^services/chat/src/events/' },
      to: { path: '^services/chat/src/(domain|presence|transport|routes)/' },
    },
    {
      name: 'no-circular',
      comment: 'Modules that import each other have no order to read them in.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules|\\.tap|coverage)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: {
      // Workspace packages resolve to their sources, as tsx and tsc see them.
      conditionNames: ['@finchat/source', 'import', 'types', 'node', 'default'],
      exportsFields: ['exports'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.json'],
      mainFields: ['module', 'main', 'types'],
    },
  },
}
