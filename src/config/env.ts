// `${VAR}` in config values, from the environment; `$${` is a literal `${`.

export function expandEnvText(s: string, env: NodeJS.ProcessEnv): { value: string } | { error: string } {
  let error: string | undefined;
  const value = s.replace(/\$\$\{|\$\{([^}]*)\}/g, (m, name: string | undefined) => {
    if (m === "$${") return "${";
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name ?? "")) {
      error ??= `bad variable reference ${m}: write \${NAME} with letters, digits and _`;
      return "";
    }
    const val = env[name!];
    if (val === undefined) {
      error ??= `\${${name}} is not set in the environment`;
      return "";
    }
    return val;
  });
  return error !== undefined ? { error } : { value };
}
