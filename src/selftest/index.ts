export {
  startSelfTestPage,
  type SelfTestCredentials,
  type SelfTestPage,
  type SelfTestPageConfig,
} from './self-test-page.js';
export { restCredentialsMinter, type RestMinterOptions } from './rest-minter.js';
