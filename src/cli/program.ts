/**
 * The one program file: every command, its flags and help, and a lazy import of the module
 * that runs it, so `ts-docker images` loads no HTTP, spinner or tar code.
 */
import { Command, Option } from 'commander';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each command types its own arguments
type Action = (cmd: Command, ...args: any[]) => Promise<void>;
type Loader = () => Promise<{ default: Action }>;

function lazy(load: Loader) {
  return async (...args: unknown[]): Promise<void> => {
    const cmd = args.at(-1) as Command;
    const mod = await load();
    await mod.default(cmd, ...args.slice(0, -2), args.at(-2));
  };
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** The image commands, defined once and mounted both at top level and under `image`. */
function imageCommands(): Command[] {
  return [
    new Command('tag')
      .description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE')
      .argument('<SOURCE_IMAGE[:TAG]>')
      .argument('<TARGET_IMAGE[:TAG]>')
      .action(lazy(() => import('./commands/tag.js'))),
    new Command('images')
      .description('List images')
      .argument('[REPOSITORY[:TAG]]')
      .option('-a, --all', 'Show all images (default hides intermediate images)')
      .option('--digests', 'Show digests')
      .addOption(new Option('-f, --filter <filter>', 'Filter output based on conditions provided').argParser(collect))
      .option('--format <string>', "Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'")
      .option('--no-trunc', "Don't truncate output")
      .option('-q, --quiet', 'Only show image IDs')
      .action(lazy(() => import('./commands/images.js'))),
    new Command('rmi')
      .description('Remove one or more images')
      .argument('<IMAGE...>')
      .option('-f, --force', 'Force removal of the image')
      .option('--no-prune', 'Do not delete untagged parents (accepted for docker compatibility)')
      .action(lazy(() => import('./commands/rmi.js'))),
    new Command('inspect')
      .description('Display detailed information on one or more images')
      .argument('<IMAGE...>')
      .option('-f, --format <string>', 'Format output using a custom template')
      .action(lazy(() => import('./commands/inspect.js'))),
    new Command('save')
      .description('Save one or more images to a tar archive (streamed to STDOUT by default)')
      .argument('<IMAGE...>')
      .option('-o, --output <file>', 'Write to a file, instead of STDOUT')
      .addOption(new Option('--platform <os/arch[/variant]>', 'Save only the given platform(s) of a multi-platform image (comma-separated or repeated)').argParser(collect))
      .action(lazy(() => import('./commands/save.js'))),
    new Command('load')
      .description('Load an image from a tar archive or STDIN')
      .option('-i, --input <file>', 'Read from tar archive file, instead of STDIN')
      .option('-q, --quiet', 'Suppress the load output')
      .addOption(new Option('--platform <os/arch[/variant]>', 'Load only the given platform(s) of a multi-platform archive (comma-separated or repeated)').argParser(collect))
      .action(lazy(() => import('./commands/load.js'))),
    new Command('import')
      .description('Import the contents from a tarball or a directory to create a filesystem image')
      .argument('<file|dir|URL|->')
      .argument('[REPOSITORY[:TAG]]')
      .addOption(new Option('-c, --change <instruction>', 'Apply Dockerfile instruction to the created image').argParser(collect))
      .option('-m, --message <string>', 'Set commit message for imported image')
      .option('--platform <string>', 'Set platform if server is multi-platform capable')
      .action(lazy(() => import('./commands/import.js'))),
    new Command('prune')
      .description('Remove unused images')
      .option('-a, --all', 'Remove all unused images, not just dangling ones')
      .option('-f, --force', 'Do not prompt for confirmation')
      .action(lazy(() => import('./commands/prune.js'))),
  ];
}

/** Builds the commander program. */
export function buildProgram(): Command {
  const program = new Command('ts-docker')
    .description('Daemonless image tool: tag, images, rmi, save, load, import, push, pull')
    .option('--root <dir>', 'Image store directory (default $TS_DOCKER_ROOT or ~/.local/share/ts-docker)')
    .option('--config <dir>', 'Location of client config files (default $TS_DOCKER_CONFIG)')
    .option('-D, --debug', 'Enable debug output (stack traces)')
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str.replace(/^error:/, 'Error:')) });

  const top = imageCommands().filter((c) => c.name() !== 'prune');
  for (const c of top) program.addCommand(c.copyInheritedSettings(program));
  const image = new Command('image').description('Manage images').copyInheritedSettings(program);
  for (const c of imageCommands()) {
    c.copyInheritedSettings(program);
    if (c.name() === 'images') c.name('ls').aliases(['list']);
    if (c.name() === 'rmi') c.name('rm').aliases(['remove']);
    image.addCommand(c);
  }
  program.addCommand(image);

  const remoteFlags = (c: Command): Command => c
    .option('-q, --quiet', 'Suppress verbose output')
    .option('--progress <mode>', 'Progress output: auto, plain, tty or json (NDJSON events)')
    .addOption(new Option('--insecure-registry <host>', 'Talk plain HTTP to this registry (repeatable)').argParser(collect));
  program.addCommand(remoteFlags(new Command('push')
    .description('Upload an image to a registry')
    .argument('<NAME[:TAG]>')
    .option('-a, --all-tags', 'Push all tags of an image to the repository')
    .option('--platform <os/arch[/variant]>', 'Push only this platform of a multi-platform image (its manifest, under the tag)')
    .option('--chunk-size <size>', 'Upload chunk size, e.g. 512k, 16m (default: 16m growing to 64m while a chunk takes under 2 s; or chunkSize in config.json)')
    .option('--max-concurrent-uploads <n>', 'Blobs uploaded at once (default 5)')
    .action(lazy(() => import('./commands/push.js')))).copyInheritedSettings(program));
  program.addCommand(remoteFlags(new Command('pull')
    .description('Download an image from a registry')
    .argument('<NAME[:TAG|@DIGEST]>')
    .option('-a, --all-tags', 'Download all tagged images in the repository')
    .option('--platform <os/arch[/variant]>', 'Platform to pull from a multi-platform image (default: this machine)')
    .option('--max-concurrent-downloads <n>', 'Blobs downloaded at once (default 3)')
    .action(lazy(() => import('./commands/pull.js')))).copyInheritedSettings(program));

  program.addCommand(remoteFlags(new Command('copy')
    .description('Copy an image between registries, the store and archives without pulling it (every platform, with its signatures and SBOMs)')
    .argument('<SOURCE>', 'REGISTRY/REPO[:TAG|@DIGEST] or docker://..., store:NAME, oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REF]')
    .argument('<DESTINATION>', 'the same forms (a registry destination names a tag)')
    .option('--all', 'Copy every platform of a multi-platform image (the default, except into the store)')
    .option('--platform <os/arch[/variant]>', 'Copy only this platform\'s manifest')
    .option('--no-referrers', 'Leave out the manifests that refer to it (signatures, SBOMs, attestations)')
    .option('--chunk-size <size>', 'Upload chunk size to a registry (as push)')
    .option('--max-concurrent <n>', 'Blobs moved at once (default 4)')
    .action(lazy(() => import('./commands/copy.js')))).copyInheritedSettings(program));

  program
    .command('login')
    .description('Log in to a registry (default: Docker Hub)')
    .argument('[SERVER]')
    .option('-u, --username <string>', 'Username')
    .option('-p, --password <string>', 'Password')
    .option('--password-stdin', 'Take the password from stdin')
    .addOption(new Option('--insecure-registry <host>', 'Talk plain HTTP to this registry (repeatable)').argParser(collect))
    .action(lazy(() => import('./commands/login.js')));
  program
    .command('logout')
    .description('Log out from a registry (default: Docker Hub)')
    .argument('[SERVER]')
    .action(lazy(() => import('./commands/logout.js')));
  program
    .command('version')
    .description('Show the ts-docker version information')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action(lazy(() => import('./commands/version.js')));
  program
    .command('info')
    .description('Display store-wide information')
    .option('-f, --format <string>', 'Format output using a custom template')
    .action(lazy(() => import('./commands/info.js')));
  const registry = new Command('registry').description('Run the built-in private registry').copyInheritedSettings(program);
  registry.addCommand(new Command('serve')
    .description('Serve an OCI distribution-spec registry in the foreground (logs one line per request)')
    .argument('[CONFIG]', "docker-registry's config.yml (http.addr, http.tls, auth.htpasswd, storage.filesystem); REGISTRY_* variables and flags override it")
    .option('--addr <host:port>', 'Address to listen on (default 127.0.0.1:5000)')
    .option('--root <dir>', 'Registry storage directory (default ~/.local/share/ts-docker-registry)')
    .option('--chunk-min-length <bytes>', 'Advertise OCI-Chunk-Min-Length on upload sessions')
    .option('--tls-cert <file>', 'Serve HTTPS with this certificate (PEM; needs --tls-key)')
    .option('--tls-key <file>', 'The private key of --tls-cert (PEM)')
    .option('--htpasswd <file>', 'Require Basic auth against this htpasswd file (bcrypt entries: htpasswd -B)')
    .option('--realm <name>', 'The realm of the Basic auth challenge (default "ts-docker registry")')
    .addOption(new Option('--container-dir <dir>').hideHelp())
    .action(lazy(() => import('./commands/registry-serve.js'))).copyInheritedSettings(program));
  registry.addCommand(new Command('gc')
    .description('Delete blobs no manifest references (run it with the registry stopped)')
    .option('--root <dir>', 'Registry storage directory (default ~/.local/share/ts-docker-registry)')
    .option('--dry-run', 'Only list what would be deleted')
    .action(lazy(() => import('./commands/registry-gc.js'))).copyInheritedSettings(program));
  program.addCommand(registry);
  program
    .command('run')
    .description('Run the built-in registry as the "registry" image (ts-docker runs no other containers)')
    .argument('<IMAGE>')
    .argument('[COMMAND...]')
    .option('-d, --detach', 'Run in the background and print the container ID')
    .addOption(new Option('-p, --publish <[ip:]host:5000>', 'Publish the registry port on the host').argParser(collect))
    .addOption(new Option('-v, --volume <host:container>', 'Bind a host folder or file (DIR:/var/lib/registry keeps the storage in DIR)').argParser(collect))
    .addOption(new Option('-e, --env <NAME=VALUE>', 'Set a REGISTRY_* setting (REGISTRY_AUTH=htpasswd, REGISTRY_HTTP_TLS_CERTIFICATE...)').argParser(collect))
    .option('--name <string>', 'Assign a name to the container')
    .option('--rm', 'Remove the container when it stops')
    .action(lazy(() => import('./commands/run.js')));
  program
    .command('ps')
    .description('List the registries started with run -d')
    .option('-a, --all', 'Show all containers (default shows just running)')
    .option('-q, --quiet', 'Only display container IDs')
    .option('--no-trunc', "Don't truncate output")
    .action(lazy(() => import('./commands/ps.js')));
  program
    .command('stop')
    .description('Stop one or more running registries')
    .argument('<CONTAINER...>')
    .option('-t, --time <seconds>', 'Seconds to wait before killing it', '10')
    .action(lazy(() => import('./commands/stop.js')));
  program
    .command('rm')
    .description('Remove one or more stopped registries')
    .argument('<CONTAINER...>')
    .option('-f, --force', 'Stop and remove a running one')
    .action(lazy(() => import('./commands/rm.js')));
  program
    .command('logs')
    .description("Print a registry's log")
    .argument('<CONTAINER>')
    .option('-n, --tail <lines>', 'Number of lines to show from the end of the logs', 'all')
    .action(lazy(() => import('./commands/logs.js')));
  return program;
}
