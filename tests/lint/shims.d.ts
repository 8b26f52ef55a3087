// The few globals of the ArkTS runtime that lib.es2021 does not declare (the SDK's
// declarations are not available on this machine).
declare interface Console {
  log(...data: Object[]): void;
  info(...data: Object[]): void;
  warn(...data: Object[]): void;
  error(...data: Object[]): void;
}
declare var console: Console;
declare function setTimeout(handler: () => void, delay?: number): number;
declare function clearTimeout(id?: number): void;
declare function setInterval(handler: () => void, delay?: number): number;
declare function clearInterval(id?: number): void;
