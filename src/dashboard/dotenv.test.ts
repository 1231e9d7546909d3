// Pasted .env files: what each kind of line sets, and the line a mistake is on.

import { expect, test } from "bun:test";
import { AppError } from "../errors.ts";
import { parseDotenv } from "./dotenv.ts";

test("NAME=value lines, export, quotes, comments and blank lines", () => {
  const text = [
    "# database",
    "DATABASE_URL=postgres://u:p@db/x",
    "",
    "export API_KEY = abc123  # the key",
    'GREETING="hello \\"world\\"\\nbye"',
    "SINGLE='a # not a comment'",
    "EMPTY=",
    "\r",
  ].join("\n");
  expect(parseDotenv(text).map(({ key, value }) => [key, value])).toEqual([
    ["DATABASE_URL", "postgres://u:p@db/x"],
    ["API_KEY", "abc123"],
    ["GREETING", 'hello "world"\nbye'],
    ["SINGLE", "a # not a comment"],
    ["EMPTY", ""],
  ]);
});

test("a line that sets nothing, an unclosed quote, or nothing at all is named", () => {
  const problem = (text: string) => {
    try {
      parseDotenv(text);
      return null;
    } catch (error) {
      return error instanceof AppError ? [error.field, error.message] : String(error);
    }
  };
  expect(problem("A=1\njust words\n")).toEqual(["dotenv", "line 2 is not NAME=value"]);
  expect(problem('A="open')).toEqual(["dotenv", "line 1: the value's closing \" is missing"]);
  expect(problem("# only a comment\n\n")).toEqual(["dotenv", "there is no NAME=value line to save"]);
});
