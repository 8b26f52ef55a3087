import { hapTasks } from '@ohos/hvigor-ohos-plugin';

export default {
  system: hapTasks, // hvigor's built-in HAP tasks
  plugins: []
};
