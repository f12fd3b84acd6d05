// The flowc VS Code extension: starts `flowc lsp` over stdio and hands it every `.flow` document.
// Highlighting without the server comes from syntaxes/flow.tmLanguage.json; the server adds
// diagnostics, hover, definitions, references, completion, rename, symbols, semantic tokens,
// folding, formatting and code actions.

import * as vscode from 'vscode';
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
  TransportKind,
} from 'vscode-languageclient/node';

let client: LanguageClient | undefined;
let output: vscode.OutputChannel | undefined;

/** The executable named by the `flowc.path` setting, with `~` expanded; `flowc` when unset. */
function flowcPath(): string {
  const configured = vscode.workspace.getConfiguration('flowc').get<string>('path', 'flowc').trim();
  const value = configured.length > 0 ? configured : 'flowc';
  if (value === '~' || value.startsWith('~/')) {
    const home = process.env.HOME ?? process.env.USERPROFILE ?? '';
    return home + value.slice(1);
  }
  return value;
}

function createClient(command: string): LanguageClient {
  const executable = { command, args: ['lsp'], transport: TransportKind.stdio };
  const serverOptions: ServerOptions = { run: executable, debug: executable };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'flow' },
      { scheme: 'untitled', language: 'flow' },
    ],
    synchronize: {
      // `use` pulls in other .flow files: tell the server when any of them changes on disk.
      fileEvents: vscode.workspace.createFileSystemWatcher('**/*.flow'),
    },
    outputChannel: output,
    // The server is one local process; if it cannot start, say so once instead of retrying.
    connectionOptions: { maxRestartCount: 4 },
  };
  // The id `flowc` makes the `flowc.trace.server` setting apply to this client.
  return new LanguageClient('flowc', 'flowc', serverOptions, clientOptions);
}

function reportStartFailure(command: string, err: unknown): void {
  const detail = err instanceof Error ? err.message : String(err);
  const notFound = /ENOENT|not found|spawn/i.test(detail);
  const message = notFound
    ? `flowc: could not start the language server "${command} lsp" (${detail}). ` +
      'Install flowc with `cargo install --path crates/cli` in the flowc repository so that `flowc` is on PATH, ' +
      'or set "flowc.path" to the flowc executable.'
    : `flowc: the language server "${command} lsp" failed to start (${detail}). ` +
      'Check that "flowc.path" names a flowc build that supports `flowc lsp` (`cargo install --path crates/cli` installs the current one).';
  output?.appendLine(message);
  void vscode.window
    .showErrorMessage(message, 'Open Settings', 'Show Log')
    .then((choice) => {
      if (choice === 'Open Settings') {
        void vscode.commands.executeCommand('workbench.action.openSettings', 'flowc.path');
      } else if (choice === 'Show Log') {
        output?.show(true);
      }
    });
}

async function startClient(): Promise<void> {
  const command = flowcPath();
  const next = createClient(command);
  client = next;
  try {
    await next.start();
  } catch (err) {
    reportStartFailure(command, err);
    // Leave no half-started client behind; a settings change or the restart command retries.
    if (client === next) {
      client = undefined;
    }
    try {
      if (next.state !== State.Stopped) {
        await next.stop();
      }
    } catch {
      // already gone
    }
  }
}

async function stopClient(): Promise<void> {
  const current = client;
  client = undefined;
  if (current !== undefined && current.state !== State.Stopped) {
    await current.stop();
  }
}

async function restartClient(): Promise<void> {
  await stopClient();
  await startClient();
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel('flowc');
  context.subscriptions.push(output);

  context.subscriptions.push(
    vscode.commands.registerCommand('flowc.restartServer', restartClient),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('flowc.path')) {
        void restartClient();
      }
    }),
  );

  await startClient();
}

export async function deactivate(): Promise<void> {
  await stopClient();
}
