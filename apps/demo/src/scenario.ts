/** One stop of the tour: `npm run demo -- <name> [args…]` runs it alone. */
export interface Scenario {
  /** Short kebab-case name used on the command line. */
  readonly name: string;
  /** One line shown by `--list`. */
  readonly description: string;
  /** Runs the scenario; `args` are the command-line arguments after its name. */
  run(args: readonly string[]): Promise<void> | void;
}
