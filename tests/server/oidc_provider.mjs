// A real OpenID Connect provider (npm `oidc-provider`, installed by scripts/setup.sh under .venv/node) for
// tests/server/test_oidc_login.py. Usage: node oidc_provider.mjs MODULE_DIR PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI
// Its development interactions accept any login name (it becomes the `sub`) with any password.
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const [moduleDir, port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const { default: Provider } = await import(pathToFileURL(join(moduleDir, 'lib', 'index.js')).href);

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  findAccount: async (ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, email: `${sub}@example.test`, email_verified: true }),
  }),
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  cookies: { keys: ['test-only-cookie-signing-key'] },
});
provider.listen(Number(port), '127.0.0.1', () => console.log(`oidc-provider ready on ${port}`));
