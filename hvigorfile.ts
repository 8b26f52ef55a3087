import { appTasks } from '@ohos/hvigor-ohos-plugin';

export default {
  system: appTasks, // hvigor's built-in app tasks
  plugins: []
};
