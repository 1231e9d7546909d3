// Text imports embedded into the compiled binary (SQL migrations, static assets).
declare module "*.sql" {
  const text: string;
  export default text;
}
