import { useState } from 'preact/hooks';
import { logIn } from './session';

/** Shown when auth is on and the page has no session: a key in, a session cookie out. */
export function LoginPage() {
  const [key, setKey] = useState('');
  const [tenant, setTenant] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    const refusal = await logIn(key, tenant);
    if (refusal) setError(refusal);
    else location.reload();
  };
  return (
    <main class="login">
      <form class="panel" onSubmit={submit}>
        <h1>Conveyor</h1>
        <label>
          API key
          <input name="key" type="password" autocomplete="current-password" required value={key} onInput={(e) => setKey(e.currentTarget.value)} />
        </label>
        <label>
          Tenant <small>(admin keys: the tenant to show; default “default”)</small>
          <input name="tenant" value={tenant} onInput={(e) => setTenant(e.currentTarget.value)} />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit">Log in</button>
      </form>
    </main>
  );
}
