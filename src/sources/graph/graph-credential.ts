// The app-only credential for one Graph connection: a client secret read from the env var the config names, or a
// certificate file. Built once per connection and reused, so MSAL's token cache spares a token request per pull.
import { ClientCertificateCredential, ClientSecretCredential, type TokenCredential } from "@azure/identity";
import { SourceConfigError } from "../pull-errors.ts";
import type { GraphConnectionConfig } from "./graph-config.ts";
import type { ExtraCaTrust } from "./extra-ca-trust.ts";

/** A credential for `config`; throws SourceConfigError when the named env var is unset or empty. */
export function makeGraphCredential(config: GraphConnectionConfig, env: NodeJS.ProcessEnv = process.env,
  trust?: ExtraCaTrust): TokenCredential {
  const options = {
    ...(config.fakeOrigin ? { authorityHost: config.fakeOrigin, disableInstanceDiscovery: true } : {}),
    ...(trust ? trust.credentialOptions : {}),
  };
  const { secretEnv, certificateFile } = config.credentials;
  if (certificateFile !== undefined) {
    return new ClientCertificateCredential(config.tenantId, config.clientId, { certificatePath: certificateFile }, options);
  }
  const secret = secretEnv === undefined ? undefined : env[secretEnv];
  if (!secret) {
    throw new SourceConfigError(`the Graph client secret is missing`, null,
      `set the environment variable ${secretEnv ?? "(credentials.secretEnv)"} to a client secret of app ${config.clientId}`);
  }
  return new ClientSecretCredential(config.tenantId, config.clientId, secret, options);
}
