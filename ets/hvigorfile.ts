import { harTasks } from '@ohos/hvigor-ohos-plugin';

export default {
  system: harTasks, // hvigor's built-in HAR tasks
  plugins: []
};
