export { uiRoutes } from './routes.ts';
