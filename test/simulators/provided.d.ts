// What test/global-setup.ts hands the workerd tests: `inject("simulators")` from "vitest".
import type { SimulatorInfo } from "./index";

declare module "vitest" {
  export interface ProvidedContext {
    simulators: SimulatorInfo;
  }
}
